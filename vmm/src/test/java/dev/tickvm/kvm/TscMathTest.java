package dev.tickvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TscMathTest {

    @Test
    void ratioForThreeToTwoAndAHalfGigahertzMatchesTimeMd() {
        assertEquals(0xD55555555555L, TscMath.ratio(2_500_000, 3_000_000, 48));
        assertEquals(0xD5555555L, TscMath.ratio(2_500_000, 3_000_000, 32));
    }

    @Test
    void scalingThreeBillionHostCyclesTruncatesToOneCycleShort() {
        long r48 = TscMath.ratio(2_500_000, 3_000_000, 48);
        long r32 = TscMath.ratio(2_500_000, 3_000_000, 32);
        assertEquals(2_499_999_999L, TscMath.scale(3_000_000_000L, r48, 48));
        assertEquals(2_499_999_999L, TscMath.scale(3_000_000_000L, r32, 32));
    }

    @Test
    void defaultRatioIsTheIdentityEvenForHugeValues() {
        assertEquals(-2L, TscMath.scale(-2L, TscMath.defaultRatio(48), 48));
        assertEquals(0x7fff_ffff_ffff_fff1L, TscMath.scale(0x7fff_ffff_ffff_fff1L, TscMath.defaultRatio(32), 32));
    }

    @Test
    void scaleUsesA128BitProduct() {
        // 2^62 * 2^49 overflows 64 bits; >> 48 gives 2^63.
        assertEquals(Long.MIN_VALUE, TscMath.scale(1L << 62, 1L << 49, 48));
    }

    @Test
    void toleranceIs250PpmEitherSide() {
        assertTrue(TscMath.withinTolerance(3_000_750, 3_000_000));
        assertFalse(TscMath.withinTolerance(3_000_751, 3_000_000));
        assertTrue(TscMath.withinTolerance(2_999_250, 3_000_000));
        assertFalse(TscMath.withinTolerance(2_999_249, 3_000_000));
    }

    @Test
    void timeScaleWorkedValuesFromTimeMd() {
        assertEquals(new TscMath.TimeScale(-1, 3435973836L), TscMath.timeScale(1_000_000_000L, 2_500_000_000L));
        assertEquals(new TscMath.TimeScale(2, 2684354560L), TscMath.timeScale(2_500_000_000L, 1_000_000_000L));
        assertEquals(new TscMath.TimeScale(-1, 2863311530L), TscMath.timeScale(1_000_000_000L, 3_000_000_000L));
        assertEquals(new TscMath.TimeScale(1, 1L << 31), TscMath.timeScale(1_000_000_000L, 1_000_000_000L));
    }

    @Test
    void oneSecondOfTwoAndAHalfGigahertzCyclesIsOneNanosecondShort() {
        assertEquals(999_999_999L, TscMath.timeScale(1_000_000_000L, 2_500_000_000L).apply(2_500_000_000L));
    }

    @Test
    void nsecToCyclesAtTwoAndAHalfGigahertz() {
        TscMath.TimeScale ns2cyc = TscMath.timeScale(2_500_000_000L, 1_000_000_000L);
        assertEquals(2_500_000_000L, ns2cyc.apply(1_000_000_000L));
        assertEquals(2_500L, ns2cyc.apply(1_000L));
        assertEquals(0L, ns2cyc.apply(0L));
    }

    @Test
    void mulDivIsExactBeyond64BitProducts() {
        assertEquals(0xD55555555555L, TscMath.mulDiv(1L << 48, 2_500_000, 3_000_000));
        assertEquals(Long.divideUnsigned(-1L, 3) , TscMath.mulDiv(-1L, 1, 3));
        assertThrows(ArithmeticException.class, () -> TscMath.mulDiv(-1L, 4, 2));
        assertThrows(ArithmeticException.class, () -> TscMath.mulDiv(1, 1, 0));
    }
}
