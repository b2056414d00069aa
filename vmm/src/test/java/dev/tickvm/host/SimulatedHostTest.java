package dev.tickvm.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SimulatedHostTest {

    @Test
    void oneReadingGivesConsistentMonotonicRealtimeAndTsc() {
        VirtualClock clock = new VirtualClock();
        SimulatedHost host = SimulatedHost.standard("h", clock).withTscAtBoot(1_000).withNtp(-50_000_000, 0);
        clock.advance(2_000_000_000L);
        SimulatedHost.Reading r = host.read();
        assertEquals(2_000_000_000L, r.monotonicNanos());
        assertEquals(1_000 + 6_000_000_000L, r.tsc());
        assertEquals(SimulatedHost.DEFAULT_BOOT_EPOCH_NANOS + 2_000_000_000L - 50_000_000, r.realtimeNanos());
    }

    @Test
    void hostTscIsExactPastThePointWhereAPlainProductOverflows() {
        VirtualClock clock = new VirtualClock();
        SimulatedHost host = SimulatedHost.standard("h", clock).withTscKhz(2_999_999);
        // 10^13 ns * 2,999,999 kHz overflows 64 bits; the split keeps it exact.
        clock.advance(10_000_000_000_000L);
        assertEquals(29_999_990_000_000L, host.tsc());
        assertEquals(2L, host.tscAt(1));
    }

    @Test
    void aTrueFrequencyOffWholeKilohertzShowsInTheTscButNotInTheKernelsKhz() {
        VirtualClock clock = new VirtualClock();
        SimulatedHost host = SimulatedHost.standard("h", clock).withTscHz(2_999_999_500L);
        assertEquals(2_999_999, host.tscKhz());
        clock.advance(1_000_000_000L);
        assertEquals(2_999_999_500L, host.tsc());
        clock.advance(1);
        assertEquals(2_999_999_502L, host.tsc());
    }

    @Test
    void mulDivBillionIsExactAcrossThe128BitRange() {
        assertEquals(0, SimulatedHost.mulDivBillion(0, 3_000_000_000L));
        assertEquals(2, SimulatedHost.mulDivBillion(1, 2_999_999_999L));
        // 10^18 ns (31.7 years) at 100 GHz: a 10^29 product, 10^20 > 2^64: overflows.
        assertThrows(ArithmeticException.class, () -> SimulatedHost.mulDivBillion(1_000_000_000_000_000_000L, 100_000_000_000L));
        // 10^17 ns at 3.9 GHz = 3.9e17 cycles; the product 3.9e26 needs 89 bits.
        assertEquals(390_000_000_000_000_000L, SimulatedHost.mulDivBillion(100_000_000_000_000_000L, 3_900_000_000L));
        assertEquals(java.math.BigInteger.valueOf(12_345_678_901_234_567L).multiply(java.math.BigInteger.valueOf(98_765_432_109L))
                .divide(java.math.BigInteger.valueOf(1_000_000_000L)).longValueExact(),
                SimulatedHost.mulDivBillion(12_345_678_901_234_567L, 98_765_432_109L));
    }

    @Test
    void badFrequencyAndFractionBitsAreRejected() {
        VirtualClock clock = new VirtualClock();
        assertThrows(IllegalArgumentException.class, () -> SimulatedHost.standard("h", clock).withTscKhz(0));
        assertThrows(IllegalArgumentException.class, () -> SimulatedHost.standard("h", clock).withFracBits(40));
    }

    @Test
    void aCrystalFortyPpmFastLeavesTheKernelsKhzAloneAndTheRawClockFollowsTheTsc() {
        VirtualClock clock = new VirtualClock();
        SimulatedHost host = SimulatedHost.standard("h", clock).withCrystalErrorPpb(40_000);
        assertEquals(3_000_120_000L, host.tscHz());
        assertEquals(3_000_000, host.tscKhz());
        clock.advance(10_000_000_000L);
        SimulatedHost.Reading r = host.read();
        assertEquals(30_001_200_000L, r.tsc());
        // 30,001,200,000 * 5,592,405 >> 24: 39.94 ppm fast against true time.
        assertEquals(10_000_399_403L, r.rawNanos());
        assertEquals(10_000_000_000L, r.monotonicNanos());
    }

    @Test
    void ntpOffsetMovesRealtimeOnlyAndSlewMovesMonotonicAndRealtimeFromWhenItIsSet() {
        VirtualClock clock = new VirtualClock();
        SimulatedHost host = SimulatedHost.standard("h", clock).withNtp(20_000_000, 0);
        clock.advance(1_000_000_000L);
        assertEquals(1_000_000_000L, host.monotonicNanos());
        assertEquals(SimulatedHost.DEFAULT_BOOT_EPOCH_NANOS + 1_020_000_000L, host.realtimeNanos());
        assertEquals(host.realtimeNanos() + 37_000_000_000L, host.read().taiNanos());
        host.setNtp(-20_000_000, 100_000);
        clock.advance(1_000_000_000L);
        // +100 ppm for one second; realtime stepped to -20 ms.
        assertEquals(2_000_100_000L, host.monotonicNanos());
        assertEquals(SimulatedHost.DEFAULT_BOOT_EPOCH_NANOS + 2_000_100_000L - 20_000_000, host.realtimeNanos());
        host.setNtp(-20_000_000, 0);
        clock.advance(1_000_000_000L);
        assertEquals(3_000_100_000L, host.monotonicNanos());
        assertThrows(IllegalArgumentException.class, () -> host.setNtp(0, 500_001));
    }

    @Test
    void aCalibrationErrorSeparatesTscKhzFromTheCrystal() {
        SimulatedHost host = SimulatedHost.standard("h", new VirtualClock()).withTscHz(3_000_000_000L)
                .withCalibratedKhz(2_999_990);
        assertEquals(3_000_000_000L, host.tscHz());
        assertEquals(2_999_990, host.tscKhz());
        assertEquals(ClocksourceScale.forKhz(2_999_990), host.rawScale());
    }
}
