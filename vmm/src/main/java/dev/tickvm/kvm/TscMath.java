package dev.tickvm.kvm;

/**
 * KVM's TSC and clock arithmetic, exactly: 128-bit products where KVM uses them, truncation
 * where KVM truncates, no floating point. See docs/TIME.md sections 2 and 3.
 */
public final class TscMath {
    /** Intel VMX keeps 48 fractional bits in the TSC multiplier. */
    public static final int VMX_FRAC_BITS = 48;
    /** AMD SVM keeps 32. */
    public static final int SVM_FRAC_BITS = 32;
    /** KVM leaves the ratio at its default when the guest kHz is this close to the host's. */
    public static final long TOLERANCE_PPM = 250;

    private TscMath() {
    }

    /** The identity ratio for this many fractional bits. */
    public static long defaultRatio(int fracBits) {
        return 1L << fracBits;
    }

    /** The largest ratio a host accepts, exclusive: VMX 2^64-1, SVM 0xff_ffffffff. */
    public static long maxRatio(int fracBits) {
        return fracBits == SVM_FRAC_BITS ? 0xff_ffff_ffffL : -1L;
    }

    /** {@code (t * ratio) >> fracBits} with a 128-bit product, truncating (kvm_scale_tsc). */
    public static long scale(long tsc, long ratio, int fracBits) {
        long hi = Math.unsignedMultiplyHigh(tsc, ratio);
        long lo = tsc * ratio;
        return (hi << (64 - fracBits)) | (lo >>> fracBits);
    }

    /** {@code floor(2^fracBits * guestKhz / hostKhz)}, as KVM's set_tsc_khz computes it. */
    public static long ratio(long guestKhz, long hostKhz, int fracBits) {
        return mulDiv(1L << fracBits, guestKhz, hostKhz);
    }

    /** True if guestKhz is within {@value #TOLERANCE_PPM} ppm of hostKhz (no scaling then). */
    public static boolean withinTolerance(long guestKhz, long hostKhz) {
        long low = hostKhz * (1_000_000 - TOLERANCE_PPM) / 1_000_000;
        long high = hostKhz * (1_000_000 + TOLERANCE_PPM) / 1_000_000;
        return guestKhz >= low && guestKhz <= high;
    }

    /**
     * Unsigned {@code floor(a * b / c)} with a 128-bit intermediate; the quotient must fit in
     * 64 bits. For set-up paths (ratios), not per-instruction ones.
     */
    public static long mulDiv(long a, long b, long c) {
        if (c == 0) {
            throw new ArithmeticException("division by zero");
        }
        long hi = Math.unsignedMultiplyHigh(a, b);
        long lo = a * b;
        if (Long.compareUnsigned(hi, c) >= 0) {
            throw new ArithmeticException("quotient does not fit in 64 bits");
        }
        // Restoring division of the 128-bit (hi, lo) by c, one bit at a time.
        long quotient = 0;
        long remainder = hi;
        for (int i = 63; i >= 0; i--) {
            boolean carry = remainder < 0;
            remainder = (remainder << 1) | ((lo >>> i) & 1);
            quotient <<= 1;
            if (carry || Long.compareUnsigned(remainder, c) >= 0) {
                remainder -= c;
                quotient |= 1;
            }
        }
        return quotient;
    }

    /** A (mul, shift) pair from {@link #timeScale}. */
    public record TimeScale(int shift, long mul) {
        /** pvclock_scale_delta: shift, then the 64x32 product's bits 32..95. */
        public long apply(long delta) {
            long d = shift >= 0 ? delta << shift : delta >>> -shift;
            return Math.unsignedMultiplyHigh(d, mul << 32);
        }
    }

    /**
     * KVM's kvm_get_time_scale: (shift, mul) so that {@link TimeScale#apply} converts a count at
     * {@code baseHz} into one at {@code scaledHz}. TSC to ns: timeScale(1e9, tscHz); ns to
     * cycles: timeScale(tscHz, 1e9).
     */
    public static TimeScale timeScale(long scaledHz, long baseHz) {
        long tps64 = baseHz;
        long scaled64 = scaledHz;
        int shift = 0;
        while (Long.compareUnsigned(tps64, scaled64 * 2) > 0 || (tps64 & 0xffff_ffff_0000_0000L) != 0) {
            tps64 >>>= 1;
            shift--;
        }
        long tps32 = tps64 & 0xffff_ffffL;
        while (Long.compareUnsigned(tps32, scaled64) <= 0 || (scaled64 & 0xffff_ffff_0000_0000L) != 0) {
            if ((scaled64 & 0xffff_ffff_0000_0000L) != 0 || (tps32 & 0x8000_0000L) != 0) {
                scaled64 >>>= 1;
            } else {
                tps32 = (tps32 << 1) & 0xffff_ffffL;
            }
            shift++;
        }
        return new TimeScale(shift, Long.divideUnsigned(scaled64 << 32, tps32));
    }
}
