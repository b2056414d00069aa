package dev.tickvm.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SimulatedHostTest {

    @Test
    void oneReadingGivesConsistentMonotonicRealtimeAndTsc() {
        VirtualClock clock = new VirtualClock();
        SimulatedHost host = SimulatedHost.standard("h", clock).withTscAtBoot(1_000).withRealtimeError(-50_000_000);
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
    void badFrequencyAndFractionBitsAreRejected() {
        VirtualClock clock = new VirtualClock();
        assertThrows(IllegalArgumentException.class, () -> SimulatedHost.standard("h", clock).withTscKhz(0));
        assertThrows(IllegalArgumentException.class, () -> SimulatedHost.standard("h", clock).withFracBits(40));
    }
}
