package dev.tickvm.host;

/**
 * Deterministic host time: starts at 0 and moves only by the cost model of the guest work
 * charged to it and by explicit {@link #advance} steps. Two runs with the same inputs read the
 * same times, bit for bit.
 */
public final class VirtualClock implements HostClock {
    private final CostModel costs;
    private long nanos;

    public VirtualClock(CostModel costs) {
        this(costs, 0);
    }

    /** A clock that starts at {@code startNanos} (a VM restored later in true time, in another process). */
    public VirtualClock(CostModel costs, long startNanos) {
        if (startNanos < 0) {
            throw new IllegalArgumentException("a virtual clock starts at 0 or later, got " + startNanos);
        }
        this.costs = costs;
        this.nanos = startNanos;
    }

    public VirtualClock() {
        this(CostModel.DEFAULT);
    }

    public CostModel costs() {
        return costs;
    }

    @Override
    public long nanos() {
        return nanos;
    }

    @Override
    public void chargeGuestWork(long blocks, long exits) {
        nanos += blocks * costs.nanosPerBlock() + exits * costs.nanosPerExit();
    }

    @Override
    public void advance(long delta) {
        if (delta < 0) {
            throw new IllegalArgumentException("host time never goes back: advance by " + delta + " ns");
        }
        nanos = Math.addExact(nanos, delta);
    }

    @Override
    public String kind() {
        return "virtual";
    }
}
