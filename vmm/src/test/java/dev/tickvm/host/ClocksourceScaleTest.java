package dev.tickvm.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The tsc clocksource's mult/shift as clocks_calc_mult_shift computes them (docs/TIME.md section 14). */
class ClocksourceScaleTest {

    @Test
    void threeGigahertzIsMult5592405Shift24AndRunsSlowBy60NanosecondsASecond() {
        ClocksourceScale s = ClocksourceScale.forKhz(3_000_000);
        assertEquals(new ClocksourceScale(5_592_405, 24), s);
        assertEquals(999_999_940L, s.toNanos(3_000_000_000L));
    }

    @Test
    void powersOfTwoTimesAMegahertzAreExact() {
        assertEquals(new ClocksourceScale(8_388_608, 23), ClocksourceScale.forKhz(1_000_000));
        assertEquals(new ClocksourceScale(4_194_304, 23), ClocksourceScale.forKhz(2_000_000));
        assertEquals(1_000_000_000L, ClocksourceScale.forKhz(2_000_000).toNanos(2_000_000_000L));
    }

    @Test
    void otherFrequenciesRoundTheMultToNearest() {
        // (1e6 << 24 + khz / 2) / khz, rounded up here: the raw clock runs fast.
        assertEquals(new ClocksourceScale(5_592_407, 24), ClocksourceScale.forKhz(2_999_999));
        assertEquals(new ClocksourceScale(6_710_886, 24), ClocksourceScale.forKhz(2_500_000));
        assertEquals(new ClocksourceScale(7_152_395, 24), ClocksourceScale.forKhz(2_345_678));
    }

    @Test
    void theProductIs128BitsWide() {
        // A year at 3 GHz is 9.5e16 cycles: times mult it needs 80 bits.
        long year = 365L * 24 * 3600 * 3_000_000_000L;
        assertEquals(java.math.BigInteger.valueOf(year).multiply(java.math.BigInteger.valueOf(5_592_405)).shiftRight(24)
                .longValueExact(), ClocksourceScale.forKhz(3_000_000).toNanos(year));
    }

    @Test
    void anOutOfRangeScaleIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ClocksourceScale(0, 24));
        assertThrows(IllegalArgumentException.class, () -> new ClocksourceScale(1, 33));
    }
}
