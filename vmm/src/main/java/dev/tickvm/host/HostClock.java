package dev.tickvm.host;

/**
 * The simulated host's monotonic clock, in nanoseconds since the clock started. Guest time is
 * derived from it (through a simulated host's TSC and the kvm layer), so a virtual clock makes
 * every guest observation reproducible.
 */
public sealed interface HostClock permits VirtualClock, RealClock {

    /** Nanoseconds since this clock started. */
    long nanos();

    /**
     * Accounts for guest work done since the last call: {@code blocks} translated blocks executed
     * and {@code exits} trips into the VMM. The virtual clock advances by its cost model; the real
     * clock ignores this (real time passes by itself).
     */
    void chargeGuestWork(long blocks, long exits);

    /** Steps time forward (scenarios, migration downtime). Only a virtual clock can do this. */
    void advance(long nanos);

    /** "virtual" or "real", as on the command line. */
    String kind();
}
