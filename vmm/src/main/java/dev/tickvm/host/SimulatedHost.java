package dev.tickvm.host;

import java.util.Objects;

/**
 * A simulated physical host: its TSC (frequency, value at boot, stability), its idea of the
 * wall-clock time, and how its CPU scales a guest TSC. Everything is derived from one reading
 * of a {@link HostClock}, so the host's monotonic, realtime and TSC values always agree.
 * Several hosts may exist in one process (the two ends of a migration), each with its own clock.
 *
 * @param name            for reports, e.g. "source"
 * @param clock           the host's monotonic raw clock (ns since host boot)
 * @param tscHz           the host TSC's true frequency in Hz; the host kernel knows it only as
 *                        whole kHz ({@link #tscKhz()}, like Linux's tsc_khz), which is what KVM uses
 * @param tscAtBoot       host TSC value when the clock read 0
 * @param bootEpochNanos  true wall-clock time (ns since the Unix epoch) at host boot
 * @param realtimeErrorNanos how wrong the host's realtime is (NTP error): added to what it reports
 * @param fracBits        TSC multiplier fractional bits: 48 (Intel VMX) or 32 (AMD SVM)
 * @param tscStable       whether the host TSC is a reliable clocksource (master clock needs it)
 */
public record SimulatedHost(String name, HostClock clock, long tscHz, long tscAtBoot, long bootEpochNanos,
        long realtimeErrorNanos, int fracBits, boolean tscStable) {

    /** Host TSC 3 GHz, VMX, stable, booted 2026-01-01T00:00:00Z, TSC 0 at boot, no realtime error. */
    public static final long DEFAULT_TSC_KHZ = 3_000_000;
    public static final long DEFAULT_BOOT_EPOCH_NANOS = 1_767_225_600_000_000_000L;

    public SimulatedHost {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(clock, "clock");
        if (tscHz < 1_000_000 || tscHz > 100_000_000_000L) {
            throw new IllegalArgumentException("host TSC must be 1 MHz to 100 GHz, got " + tscHz + " Hz");
        }
        if (fracBits != 48 && fracBits != 32) {
            throw new IllegalArgumentException("TSC scaling has 48 (VMX) or 32 (SVM) fractional bits, got " + fracBits);
        }
    }

    /** A host with the defaults above on the given clock. */
    public static SimulatedHost standard(String name, HostClock clock) {
        return new SimulatedHost(name, clock, DEFAULT_TSC_KHZ * 1000, 0, DEFAULT_BOOT_EPOCH_NANOS, 0, 48,
                true);
    }

    /** The host kernel's idea of the TSC frequency: the true one truncated to kHz. */
    public long tscKhz() {
        return tscHz / 1000;
    }

    public SimulatedHost withTscKhz(long khz) {
        if (khz < 1_000 || khz > 100_000_000) {
            throw new IllegalArgumentException("host TSC must be 1 MHz to 100 GHz, got " + khz + " kHz");
        }
        return withTscHz(khz * 1000);
    }

    public SimulatedHost withTscHz(long hz) {
        return new SimulatedHost(name, clock, hz, tscAtBoot, bootEpochNanos, realtimeErrorNanos, fracBits, tscStable);
    }

    public SimulatedHost withFracBits(int bits) {
        return new SimulatedHost(name, clock, tscHz, tscAtBoot, bootEpochNanos, realtimeErrorNanos, bits, tscStable);
    }

    public SimulatedHost withTscStable(boolean stable) {
        return new SimulatedHost(name, clock, tscHz, tscAtBoot, bootEpochNanos, realtimeErrorNanos, fracBits, stable);
    }

    public SimulatedHost withTscAtBoot(long tsc) {
        return new SimulatedHost(name, clock, tscHz, tsc, bootEpochNanos, realtimeErrorNanos, fracBits, tscStable);
    }

    public SimulatedHost withRealtimeError(long nanos) {
        return new SimulatedHost(name, clock, tscHz, tscAtBoot, bootEpochNanos, nanos, fracBits, tscStable);
    }

    public SimulatedHost withBootEpoch(long nanos) {
        return new SimulatedHost(name, clock, tscHz, tscAtBoot, nanos, realtimeErrorNanos, fracBits, tscStable);
    }

    /** One consistent reading of the host's clocks. */
    public record Reading(long monotonicNanos, long realtimeNanos, long tsc) {
    }

    /** Reads the clock once and derives all three host times from it. */
    public Reading read() {
        long ns = clock.nanos();
        return new Reading(ns, realtimeAt(ns), tscAt(ns));
    }

    /** Host monotonic raw ns now. */
    public long monotonicNanos() {
        return clock.nanos();
    }

    /** Host TSC now. */
    public long tsc() {
        return tscAt(clock.nanos());
    }

    /** {@code tsc_at_boot + floor(ns * hz / 1e9)}, exact for any ns >= 0 (128-bit product). */
    public long tscAt(long monotonicNanos) {
        return tscAtBoot + mulDivBillion(monotonicNanos, tscHz);
    }

    /**
     * floor(a * b / 1e9), unsigned, with the 128-bit product divided in two 32-bit steps: the
     * divisor is below 2^30, so each step's dividend fits in a long. On the RDTSC path, so no
     * bit loops and no BigInteger.
     */
    static long mulDivBillion(long a, long b) {
        final long d = 1_000_000_000L;
        long hi = Math.unsignedMultiplyHigh(a, b);
        long lo = a * b;
        if (Long.compareUnsigned(hi, d) >= 0) {
            throw new ArithmeticException("host TSC overflows 64 bits");
        }
        long n1 = hi << 32 | lo >>> 32;
        long q1 = n1 / d;
        long n0 = (n1 % d) << 32 | (lo & 0xffff_ffffL);
        return q1 << 32 | n0 / d;
    }

    /** What the host believes the wall-clock time is at that monotonic time. */
    public long realtimeAt(long monotonicNanos) {
        return bootEpochNanos + monotonicNanos + realtimeErrorNanos;
    }
}
