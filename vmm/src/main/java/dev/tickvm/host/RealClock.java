package dev.tickvm.host;

/** Host time from System.nanoTime(), counted from this clock's creation. Not reproducible. */
public final class RealClock implements HostClock {
    private final long origin = System.nanoTime();

    @Override
    public long nanos() {
        return System.nanoTime() - origin;
    }

    @Override
    public void chargeGuestWork(long blocks, long exits) {
        // Real time passes by itself.
    }

    @Override
    public void advance(long nanos) {
        throw new UnsupportedOperationException("the real host clock cannot be stepped; use the virtual clock");
    }

    @Override
    public String kind() {
        return "real";
    }
}
