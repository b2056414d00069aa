package dev.tickvm.host;

/**
 * A Linux clocksource's cycles-to-ns conversion: {@code ns = (cycles * mult) >> shift}. The host
 * kernel's CLOCK_MONOTONIC_RAW is the TSC through the tsc clocksource's scale, which
 * {@code clocksource_register_khz} derives from tsc_khz (docs/TIME.md section 14).
 *
 * @param mult  u32 multiplier
 * @param shift 1 to 32
 */
public record ClocksourceScale(long mult, int shift) {

    public ClocksourceScale {
        if (mult <= 0 || mult > 0xffff_ffffL || shift < 1 || shift > 32) {
            throw new IllegalArgumentException("clocksource scale out of range: mult " + mult + ", shift " + shift);
        }
    }

    /**
     * The tsc clocksource's scale for a TSC of {@code khz}: __clocksource_update_freq_scale with
     * scale 1000 and freq = tsc_khz caps the conversion range at 600 s for a 64-bit counter, then
     * clocks_calc_mult_shift(from = khz, to = NSEC_PER_SEC / 1000, maxsec = 600 * 1000).
     */
    public static ClocksourceScale forKhz(long khz) {
        return calcMultShift(khz, 1_000_000, 600 * 1000);
    }

    /**
     * clocks_calc_mult_shift: the largest shift (at most 32) whose rounded mult still converts
     * {@code maxsec} worth of {@code from} units without overflowing 64 bits.
     */
    static ClocksourceScale calcMultShift(long from, long to, long maxsec) {
        // The bits the largest count in range needs above 32 cost as many bits of mult.
        long tmp = (maxsec * from) >>> 32;
        int sftacc = 32;
        while (tmp != 0) {
            tmp >>>= 1;
            sftacc--;
        }
        int sft;
        long mult = 0;
        for (sft = 32; sft > 0; sft--) {
            mult = ((to << sft) + from / 2) / from;
            if ((mult >>> sftacc) == 0) {
                break;
            }
        }
        return new ClocksourceScale(mult, sft);
    }

    /** {@code (cycles * mult) >> shift} with a 128-bit product, for cycles >= 0. */
    public long toNanos(long cycles) {
        long hi = Math.unsignedMultiplyHigh(cycles, mult);
        long lo = cycles * mult;
        return (hi << (64 - shift)) | (lo >>> shift);
    }
}
