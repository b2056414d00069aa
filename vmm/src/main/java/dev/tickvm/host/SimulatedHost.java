package dev.tickvm.host;

import java.math.BigInteger;
import java.util.Objects;

/**
 * A simulated physical host and its clocks as Linux keeps them (docs/TIME.md section 14).
 *
 * <p>Everything derives from one reading of a {@link HostClock}, which is <em>true time</em>: the
 * ground truth a scenario reports against, shared by every host of a scenario. From it:
 * <ul>
 * <li>the host TSC ticks at the crystal's true frequency ({@link #tscHz()}), which may be off its
 * nominal value by tens of ppm;</li>
 * <li>the host kernel knows the TSC only as its calibrated {@code tsc_khz} ({@link #tscKhz()}),
 * which need not be the true Hz / 1000: calibration error;</li>
 * <li>CLOCK_MONOTONIC_RAW is the TSC converted with the tsc clocksource's mult/shift, computed from
 * tsc_khz as {@code clocks_calc_mult_shift} does, so it runs at about true_hz / (tsc_khz * 1000) of
 * true time; KVM's kvmclock base ({@code get_kvmclock_base_ns}) is this raw clock;</li>
 * <li>CLOCK_MONOTONIC and CLOCK_REALTIME are disciplined by NTP toward true time, with a frequency
 * (slew) error that both share and an offset error that realtime alone carries; CLOCK_TAI is
 * realtime plus the TAI offset.</li>
 * </ul>
 * The configuration is immutable ({@code with...} methods make copies); the NTP errors can be
 * changed while the host runs ({@link #setNtp}), from that moment on.
 */
public final class SimulatedHost {
    /** Host TSC 3 GHz, VMX, stable, booted 2026-01-01T00:00:00Z, TSC 0 at boot, no NTP error. */
    public static final long DEFAULT_TSC_KHZ = 3_000_000;
    public static final long DEFAULT_BOOT_EPOCH_NANOS = 1_767_225_600_000_000_000L;
    /** TAI - UTC since 2017-01-01. */
    public static final long DEFAULT_TAI_OFFSET_NANOS = 37_000_000_000L;
    /** ntpd and chrony refuse to slew faster than 500 ppm. */
    public static final long MAX_SLEW_PPB = 500_000;

    private final String name;
    private final HostClock clock;
    private final long tscHz;
    private final long tscKhz;
    private final long tscAtBoot;
    private final long bootEpochNanos;
    private final int fracBits;
    private final boolean tscStable;
    private final boolean tscScaling;
    private final long taiOffsetNanos;
    private final ClocksourceScale raw;
    // NTP discipline, mutable: the errors in force since true time ntpAnchor.
    private long ntpOffsetNanos;
    private long ntpSlewPpb;
    private long ntpAnchor;
    private long slewAtAnchor;

    private SimulatedHost(String name, HostClock clock, long tscHz, long tscKhz, long tscAtBoot, long bootEpochNanos,
            int fracBits, boolean tscStable, boolean tscScaling, long taiOffsetNanos, long ntpOffsetNanos,
            long ntpSlewPpb) {
        this.name = Objects.requireNonNull(name, "name");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (tscHz < 1_000_000 || tscHz > 100_000_000_000L) {
            throw new IllegalArgumentException("host TSC must be 1 MHz to 100 GHz, got " + tscHz + " Hz");
        }
        if (tscKhz < 1_000 || tscKhz > 100_000_000) {
            throw new IllegalArgumentException("the host kernel's tsc_khz must be 1,000 to 100,000,000 kHz, got " + tscKhz);
        }
        if (fracBits != 48 && fracBits != 32) {
            throw new IllegalArgumentException("TSC scaling has 48 (VMX) or 32 (SVM) fractional bits, got " + fracBits);
        }
        if (tscAtBoot < 0) {
            throw new IllegalArgumentException("the host TSC at boot must be >= 0, got " + tscAtBoot);
        }
        checkSlew(ntpSlewPpb);
        this.tscHz = tscHz;
        this.tscKhz = tscKhz;
        this.tscAtBoot = tscAtBoot;
        this.bootEpochNanos = bootEpochNanos;
        this.fracBits = fracBits;
        this.tscStable = tscStable;
        this.tscScaling = tscScaling;
        this.taiOffsetNanos = taiOffsetNanos;
        this.raw = ClocksourceScale.forKhz(tscKhz);
        this.ntpOffsetNanos = ntpOffsetNanos;
        this.ntpSlewPpb = ntpSlewPpb;
        this.ntpAnchor = clock.nanos();
        this.slewAtAnchor = 0;
    }

    /** A host with the defaults above on the given clock (true time). */
    public static SimulatedHost standard(String name, HostClock clock) {
        return new SimulatedHost(name, clock, DEFAULT_TSC_KHZ * 1000, DEFAULT_TSC_KHZ, 0, DEFAULT_BOOT_EPOCH_NANOS, 48,
                true, true, DEFAULT_TAI_OFFSET_NANOS, 0, 0);
    }

    /** A copy of this host's configuration to change and build again. */
    private Copy copy() {
        return new Copy(this);
    }

    /** The mutable twin of the configuration, for the {@code with...} methods. */
    private static final class Copy {
        private final SimulatedHost of;
        long hz;
        long khz;
        long atBoot;
        long epoch;
        int bits;
        boolean stable;
        boolean scaling;
        long tai;
        long offset;
        long slew;

        Copy(SimulatedHost h) {
            of = h;
            hz = h.tscHz;
            khz = h.tscKhz;
            atBoot = h.tscAtBoot;
            epoch = h.bootEpochNanos;
            bits = h.fracBits;
            stable = h.tscStable;
            scaling = h.tscScaling;
            tai = h.taiOffsetNanos;
            offset = h.ntpOffsetNanos;
            slew = h.ntpSlewPpb;
        }

        SimulatedHost build(HostClock clock) {
            return new SimulatedHost(of.name, clock, hz, khz, atBoot, epoch, bits, stable, scaling, tai, offset, slew);
        }

        SimulatedHost build() {
            return build(of.clock);
        }
    }

    public String name() {
        return name;
    }

    /** True time: the clock every host of a scenario shares. */
    public HostClock clock() {
        return clock;
    }

    /** The TSC crystal's true frequency in Hz. */
    public long tscHz() {
        return tscHz;
    }

    /** The host kernel's calibrated tsc_khz, which is what KVM's arithmetic uses. */
    public long tscKhz() {
        return tscKhz;
    }

    public long tscAtBoot() {
        return tscAtBoot;
    }

    /** True wall-clock time (ns since the Unix epoch) at true time 0. */
    public long bootEpochNanos() {
        return bootEpochNanos;
    }

    /** TSC multiplier fractional bits: 48 (Intel VMX) or 32 (AMD SVM). */
    public int fracBits() {
        return fracBits;
    }

    /** Whether the host TSC is a reliable clocksource (the master clock needs it). */
    public boolean tscStable() {
        return tscStable;
    }

    /** Whether the CPU can scale a guest's TSC (KVM's kvm_caps.has_tsc_control). */
    public boolean tscScaling() {
        return tscScaling;
    }

    public long taiOffsetNanos() {
        return taiOffsetNanos;
    }

    /** CLOCK_REALTIME's offset error from true time now (NTP), in ns. */
    public long ntpOffsetNanos() {
        return ntpOffsetNanos;
    }

    /** CLOCK_MONOTONIC's and CLOCK_REALTIME's frequency error now (NTP), in parts per billion. */
    public long ntpSlewPpb() {
        return ntpSlewPpb;
    }

    /** The raw clock's clocksource mult/shift (from tsc_khz, as the kernel's tsc clocksource). */
    public ClocksourceScale rawScale() {
        return raw;
    }

    /** Sets tsc_khz and makes the crystal exactly that many kHz. */
    public SimulatedHost withTscKhz(long khz) {
        if (khz < 1_000 || khz > 100_000_000) {
            throw new IllegalArgumentException("host TSC must be 1 MHz to 100 GHz, got " + khz + " kHz");
        }
        Copy c = copy();
        c.hz = khz * 1000;
        c.khz = khz;
        return c.build();
    }

    /** Sets the crystal's true Hz; the kernel calibrates it to the whole kHz below it. */
    public SimulatedHost withTscHz(long hz) {
        Copy c = copy();
        c.hz = hz;
        c.khz = hz / 1000;
        return c.build();
    }

    /** Sets only the kernel's calibrated tsc_khz, leaving the crystal alone: a calibration error. */
    public SimulatedHost withCalibratedKhz(long khz) {
        Copy c = copy();
        c.khz = khz;
        return c.build();
    }

    /**
     * Makes the crystal run {@code ppb} parts per billion off tsc_khz: true Hz =
     * floor(tsc_khz * 1000 * (1e9 + ppb) / 1e9). The kernel keeps believing tsc_khz, as it does
     * when it takes the frequency from CPUID rather than measuring it.
     */
    public SimulatedHost withCrystalErrorPpb(long ppb) {
        if (ppb <= -1_000_000_000L || ppb > 1_000_000_000L) {
            throw new IllegalArgumentException("crystal error must be above -100% and at most +100%, got " + ppb + " ppb");
        }
        long hz = Math.floorDiv(Math.multiplyExact(tscKhz * 1000, 1_000_000_000L + ppb), 1_000_000_000L);
        Copy c = copy();
        c.hz = hz;
        return c.build();
    }

    public SimulatedHost withFracBits(int bits) {
        Copy c = copy();
        c.bits = bits;
        return c.build();
    }

    public SimulatedHost withTscStable(boolean stable) {
        Copy c = copy();
        c.stable = stable;
        return c.build();
    }

    public SimulatedHost withTscScaling(boolean scaling) {
        Copy c = copy();
        c.scaling = scaling;
        return c.build();
    }

    public SimulatedHost withTscAtBoot(long tsc) {
        Copy c = copy();
        c.atBoot = tsc;
        return c.build();
    }

    public SimulatedHost withBootEpoch(long nanos) {
        Copy c = copy();
        c.epoch = nanos;
        return c.build();
    }

    public SimulatedHost withTaiOffset(long nanos) {
        Copy c = copy();
        c.tai = nanos;
        return c.build();
    }

    /** NTP errors from the start: realtime off by {@code offsetNanos}, both clocks off by {@code slewPpb}. */
    public SimulatedHost withNtp(long offsetNanos, long slewPpb) {
        Copy c = copy();
        c.offset = offsetNanos;
        c.slew = slewPpb;
        return c.build();
    }

    /** The same host on another true-time clock (e.g. a scenario's shared one). */
    public SimulatedHost onClock(HostClock other) {
        return copy().build(other);
    }

    /**
     * Changes the NTP errors from now on: CLOCK_REALTIME steps to the new offset (as a clock
     * step would), and both disciplined clocks run at the new frequency error from here.
     */
    public void setNtp(long offsetNanos, long slewPpb) {
        checkSlew(slewPpb);
        long now = clock.nanos();
        slewAtAnchor = slewError(now);
        ntpAnchor = now;
        ntpSlewPpb = slewPpb;
        ntpOffsetNanos = offsetNanos;
    }

    private static void checkSlew(long ppb) {
        if (Math.abs(ppb) > MAX_SLEW_PPB) {
            throw new IllegalArgumentException("an NTP frequency error must be within +-" + MAX_SLEW_PPB + " ppb (500 ppm), got "
                    + ppb + " ppb");
        }
    }

    /** The disciplined clocks' accumulated frequency error at true time {@code t}, in ns. */
    private long slewError(long t) {
        long dt = t - ntpAnchor;
        long product;
        try {
            product = Math.multiplyExact(dt, ntpSlewPpb);
        } catch (ArithmeticException e) {
            return slewAtAnchor + BigInteger.valueOf(dt).multiply(BigInteger.valueOf(ntpSlewPpb))
                    .divide(BigInteger.valueOf(1_000_000_000L)).longValueExact();
        }
        return slewAtAnchor + Math.floorDiv(product, 1_000_000_000L);
    }

    /**
     * One consistent reading of the host's clocks.
     *
     * @param trueNanos      true time (the scenario's ground truth)
     * @param tsc            the host TSC
     * @param rawNanos       CLOCK_MONOTONIC_RAW, which is also KVM's kvmclock base
     * @param monotonicNanos CLOCK_MONOTONIC (NTP-disciplined)
     * @param realtimeNanos  CLOCK_REALTIME, ns since the epoch (NTP-disciplined)
     * @param taiNanos       CLOCK_TAI
     */
    public record Reading(long trueNanos, long tsc, long rawNanos, long monotonicNanos, long realtimeNanos,
            long taiNanos) {
    }

    /** Reads true time once and derives every host clock from it. */
    public Reading read() {
        long t = clock.nanos();
        long tsc = tscAt(t);
        long monotonic = t + slewError(t);
        long realtime = bootEpochNanos + monotonic + ntpOffsetNanos;
        return new Reading(t, tsc, rawAtTsc(tsc), monotonic, realtime, realtime + taiOffsetNanos);
    }

    /** True time now. */
    public long trueNanos() {
        return clock.nanos();
    }

    /** Host TSC now. */
    public long tsc() {
        return tscAt(clock.nanos());
    }

    /** CLOCK_MONOTONIC_RAW now: KVM's get_kvmclock_base_ns (the boot offset is 0: no suspend). */
    public long rawNanos() {
        return rawAtTsc(tsc());
    }

    /** CLOCK_MONOTONIC now. */
    public long monotonicNanos() {
        long t = clock.nanos();
        return t + slewError(t);
    }

    /** CLOCK_REALTIME now. */
    public long realtimeNanos() {
        return read().realtimeNanos();
    }

    /** {@code tsc_at_boot + floor(t * hz / 1e9)}, exact for any t >= 0 (128-bit product). */
    public long tscAt(long trueNanos) {
        return tscAtBoot + mulDivBillion(trueNanos, tscHz);
    }

    /** CLOCK_MONOTONIC_RAW when the host TSC reads {@code tsc}. */
    public long rawAtTsc(long tsc) {
        return raw.toNanos(tsc - tscAtBoot);
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

    @Override
    public String toString() {
        return name + " (TSC " + tscHz + " Hz, tsc_khz " + tscKhz + ")";
    }
}
