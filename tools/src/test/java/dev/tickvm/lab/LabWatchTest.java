package dev.tickvm.lab;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.TscAttribute;
import dev.tickvm.unicorn.Unicorn;
import org.junit.jupiter.api.Test;

/**
 * The probe's WATCH command through the Lab: the clockwatch image's loop, started, left running
 * while the host side moves time, and read back. Host time is virtual and every round of the
 * loop costs the same blocks and exits, so a perturbation shows up as exactly its own size plus
 * one round.
 */
class LabWatchTest {
    private static final long SECOND = 1_000_000_000L;
    /** 3 GHz: the standard host's TSC, so the guest's 3,000,000 kHz, 3 cycles per ns. */
    private static final long CYCLES_PER_SECOND = 3_000_000_000L;

    private final VirtualClock clock = new VirtualClock();

    private Lab lab(int vcpus) {
        return Lab.create(Unicorn.get(), SimulatedHost.standard("host", clock), vcpus, 0);
    }

    /** The TSC step of one round, in cycles, measured over an undisturbed stretch of rounds. */
    private static long roundCycles(Lab lab, int vcpu) {
        lab.runGuests(2_000);
        WatchFindings a = lab.watchFindings(vcpu);
        lab.runGuests(20_000);
        WatchFindings b = lab.watchFindings(vcpu);
        long rounds = b.tsc().reads() - a.tsc().reads();
        long cycles = b.tsc().last() - a.tsc().last();
        assertTrue(rounds > 100, "rounds " + rounds);
        assertEquals(0, cycles % rounds, "every round costs the same: " + cycles + " cycles in " + rounds + " rounds");
        return cycles / rounds;
    }

    private static void moveTscOffset(Lab lab, int vcpu, long cycles) {
        KvmVcpu v = lab.kvm().vcpu(vcpu);
        v.setAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET, v.tscOffset() + cycles);
    }

    @Test
    void undisturbedWatchOfGivenCyclesEndsByItselfWithNoJumpAndNoBack() {
        try (Lab lab = lab(1)) {
            lab.enableKvmclock(0);
            lab.startWatch(0, new Lab.WatchParams(3_000_000, 0, Lab.ReadMode.TRUST_STABLE));
            assertTrue(lab.isWatching(0));
            WatchFindings f = lab.watchResult(0);
            assertAll(f.toString(),
                    () -> assertFalse(lab.isWatching(0)),
                    () -> assertEquals(WatchFindings.State.ENDED, f.state()),
                    () -> assertEquals(3_000_000, f.tscKhz()),
                    () -> assertEquals(1_000_000, f.thresholdNs(), "0 means the default, 1 ms"),
                    () -> assertEquals(3_000_000, f.cycles()),
                    () -> assertTrue(f.kvmclockWatched()),
                    () -> assertEquals(0, f.jumps()),
                    () -> assertEquals(0, f.backs()),
                    () -> assertEquals(f.rounds() + 1, f.tsc().reads(), "the first reading, then one per round"),
                    () -> assertEquals(f.rounds() + 1, f.kvmclock().reads()),
                    () -> assertTrue(f.tsc().last() - f.startTsc() >= 3_000_000, "ran its 1 ms of TSC"),
                    () -> assertTrue(f.tsc().maxStepNs() < 1_000, "a round is a few hundred ns: " + f.tsc().maxStepNs()),
                    () -> assertEquals(0, f.tsc().lastJumpNs()),
                    () -> assertEquals(0, f.kvmclockRetries()),
                    () -> assertEquals(0, f.kvmclockClamps(), "the master clock gives TSC_STABLE, which is trusted"));
        }
    }

    @Test
    void tscOffsetMovedForwardThreeBillionCyclesIsOneJumpOfOneSecondPlusOneRound() {
        try (Lab lab = lab(1)) {
            lab.enableKvmclock(0);
            lab.startWatch(0, Lab.WatchParams.bothUntilStopped());
            long round = roundCycles(lab, 0);
            moveTscOffset(lab, 0, CYCLES_PER_SECOND);
            WatchFindings f = lab.stopWatch(0);
            long expected = (CYCLES_PER_SECOND + round) / 3;
            assertAll(f.toString(),
                    () -> assertEquals(1, f.tsc().jumps()),
                    () -> assertEquals(0, f.tsc().backs()),
                    () -> assertEquals(expected, f.tsc().lastJumpNs()),
                    () -> assertEquals(expected, f.tsc().maxStepNs()),
                    () -> assertEquals(f.tsc().last(), f.tsc().lastJumpTsc(), "the stop came right after it"),
                    // kvmclock is host time: KVM republishes the pvclock page for the new offset.
                    () -> assertEquals(0, f.kvmclock().jumps()),
                    () -> assertEquals(0, f.kvmclock().backs()),
                    () -> assertTrue(f.kvmclock().maxStepNs() < 1_000, "kvmclock went on smoothly"));
        }
    }

    @Test
    void tscOffsetMovedBackIsOneBackOfOneSecondLessOneRound() {
        try (Lab lab = lab(1)) {
            // Two seconds in, so that one second back stays above 0 (below, the unsigned TSC
            // wraps to a huge value: a forward jump, as the guest sees it).
            clock.advance(2 * SECOND);
            lab.enableKvmclock(0);
            lab.startWatch(0, Lab.WatchParams.bothUntilStopped());
            long round = roundCycles(lab, 0);
            moveTscOffset(lab, 0, -CYCLES_PER_SECOND);
            WatchFindings f = lab.stopWatch(0);
            assertAll(f.toString(),
                    () -> assertEquals(0, f.tsc().jumps()),
                    () -> assertEquals(1, f.tsc().backs()),
                    () -> assertEquals((CYCLES_PER_SECOND - round) / 3, f.tsc().maxBackNs()),
                    () -> assertEquals(0, f.kvmclock().backs()),
                    () -> assertEquals(0, f.kvmclock().jumps()));
        }
    }

    @Test
    void hostSecondThatPassesIsOneJumpOnEachClock() {
        try (Lab lab = lab(1)) {
            lab.enableKvmclock(0);
            lab.startWatch(0, Lab.WatchParams.bothUntilStopped());
            long round = roundCycles(lab, 0);
            long kvmclockRound = lab.watchFindings(0).kvmclock().maxStepNs();
            clock.advance(SECOND);
            WatchFindings f = lab.stopWatch(0);
            assertAll(f.toString(),
                    () -> assertEquals(1, f.tsc().jumps()),
                    () -> assertEquals((CYCLES_PER_SECOND + round) / 3, f.tsc().lastJumpNs()),
                    () -> assertEquals(1, f.kvmclock().jumps()),
                    // kvmclock's own ns (pvclock's 32-bit scale) round to within a ns of the TSC's.
                    () -> assertEquals(SECOND + round / 3, f.kvmclock().lastJumpNs(), 1),
                    () -> assertTrue(f.kvmclock().lastJumpNs() <= SECOND + kvmclockRound),
                    () -> assertEquals(0, f.backs()));
        }
    }

    @Test
    void thresholdDecidesWhatIsAJump() {
        try (Lab lab = lab(1)) {
            lab.startWatch(0, new Lab.WatchParams(0, 2 * SECOND, null));
            lab.runGuests(2_000);
            clock.advance(SECOND);
            WatchFindings f = lab.stopWatch(0);
            assertAll(f.toString(),
                    () -> assertEquals(2 * SECOND, f.thresholdNs()),
                    () -> assertFalse(f.kvmclockWatched()),
                    () -> assertEquals(0, f.tsc().jumps(), "1 s is not above 2 s"),
                    () -> assertTrue(f.tsc().maxStepNs() > SECOND),
                    () -> assertEquals(0, f.kvmclock().reads(), "kvmclock not read at all"));
        }
    }

    @Test
    void watchThatEndsDuringAnotherVcpusCommandIsCollectedAfterwards() {
        try (Lab lab = lab(2)) {
            lab.startWatch(0, new Lab.WatchParams(300_000, 0, null));
            // vCPU 1 spins for 10 ms of TSC; vCPU 0 runs in turn and ends its 0.1 ms meanwhile.
            lab.spin(1, 30_000_000);
            assertTrue(lab.isWatching(0), "not collected yet");
            WatchFindings f = lab.watchResult(0);
            assertEquals(WatchFindings.State.ENDED, f.state());
            assertEquals(0, f.jumps() + f.backs(), f::toString);
            // The probe takes commands again.
            assertTrue(lab.rdtsc(0) > f.tsc().last());
        }
    }

    @Test
    void watchingVcpuTakesNoOtherCommandAndKvmclockMustBeEnabledFirst() {
        try (Lab lab = lab(2)) {
            IllegalStateException notEnabled = assertThrows(IllegalStateException.class,
                    () -> lab.startWatch(1, Lab.WatchParams.bothUntilStopped()));
            assertEquals("vCPU 1 has not enabled kvmclock: enableKvmclock first", notEnabled.getMessage());
            assertThrows(IllegalStateException.class, () -> lab.watchResult(0), "nothing to collect");
            lab.startWatch(0, Lab.WatchParams.tscUntilStopped());
            IllegalStateException busy = assertThrows(IllegalStateException.class, () -> lab.rdtsc(0));
            assertEquals("the probe on vCPU 0 is watching its clocks: end the watch first (watchResult or stopWatch)",
                    busy.getMessage());
            assertTrue(lab.rdtsc(1) > 0, "the other vCPU works as usual");
            assertEquals(WatchFindings.State.ENDED, lab.stopWatch(0).state());
        }
    }
}
