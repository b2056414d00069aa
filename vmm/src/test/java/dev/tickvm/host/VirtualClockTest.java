package dev.tickvm.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class VirtualClockTest {

    @Test
    void startsAtZeroWithTheDefaultCostModel() {
        VirtualClock clock = new VirtualClock();
        assertEquals(0L, clock.nanos());
        assertSame(CostModel.DEFAULT, clock.costs());
        assertEquals(new CostModel(2, 50), CostModel.DEFAULT);
        assertEquals("virtual", clock.kind());
    }

    @Test
    void advanceAddsExactly() {
        VirtualClock clock = new VirtualClock();
        clock.advance(7);
        clock.advance(0);
        clock.advance(1_000_000_000_000L);
        assertEquals(1_000_000_000_007L, clock.nanos());
    }

    @Test
    void negativeAdvanceIsRejectedAndLeavesTimeAlone() {
        VirtualClock clock = new VirtualClock();
        clock.advance(5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> clock.advance(-1));
        assertEquals("host time never goes back: advance by -1 ns", e.getMessage());
        assertEquals(5L, clock.nanos());
    }

    @Test
    void advancePastLongMaxOverflowsLoudly() {
        VirtualClock clock = new VirtualClock();
        clock.advance(Long.MAX_VALUE);
        assertThrows(ArithmeticException.class, () -> clock.advance(1));
        assertEquals(Long.MAX_VALUE, clock.nanos());
    }

    @Test
    void chargeGuestWorkUsesTheCostModelExactly() {
        VirtualClock clock = new VirtualClock(new CostModel(7, 11));
        clock.chargeGuestWork(3, 5);
        assertEquals(3 * 7 + 5 * 11, clock.nanos());
        clock.chargeGuestWork(0, 0);
        assertEquals(76L, clock.nanos());
        clock.chargeGuestWork(1, 0);
        clock.chargeGuestWork(0, 1);
        assertEquals(76L + 7 + 11, clock.nanos());
    }

    @Test
    void defaultCostModelChargesTwoNanosPerBlockAndFiftyPerExit() {
        VirtualClock clock = new VirtualClock();
        clock.chargeGuestWork(1_000, 10);
        assertEquals(2_000L + 500L, clock.nanos());
        clock.advance(100);
        assertEquals(2_600L, clock.nanos());
    }

    @Test
    void freeCostModelNeverMovesTimeByItself() {
        VirtualClock clock = new VirtualClock(new CostModel(0, 0));
        clock.chargeGuestWork(1_000_000, 1_000_000);
        assertEquals(0L, clock.nanos());
    }

    @Test
    void negativeCostsAreRejected() {
        assertEquals("costs must be >= 0: -1, 0",
                assertThrows(IllegalArgumentException.class, () -> new CostModel(-1, 0)).getMessage());
        assertEquals("costs must be >= 0: 0, -5",
                assertThrows(IllegalArgumentException.class, () -> new CostModel(0, -5)).getMessage());
    }

    @Test
    void realClockCannotBeStepped() {
        RealClock real = new RealClock();
        assertEquals("real", real.kind());
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> real.advance(1));
        assertEquals("the real host clock cannot be stepped; use the virtual clock", e.getMessage());
    }
}
