package dev.tickvm.snapshot;

/**
 * The clocks at the moment of saving, read together: what a restore needs to tell how much time
 * passed in between and on which host (the restore strategy is its owner's choice, not the file's).
 *
 * @param trueNanos          the simulation's ground truth, ns (the host clock of the lab, which no guest sees)
 * @param hostMonotonicNanos the source host's monotonic raw clock, ns since its boot
 * @param hostRealtimeNanos  the source host's idea of the wall-clock time, ns since the Unix epoch
 * @param hostTsc            the source host's TSC
 */
public record SaveTimes(long trueNanos, long hostMonotonicNanos, long hostRealtimeNanos, long hostTsc) {
}
