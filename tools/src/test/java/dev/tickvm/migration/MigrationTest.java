package dev.tickvm.migration;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.vm.RestoreStrategy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Each strategy's characteristic result, by the formulas of docs/MIGRATION.md, from the guest's
 * own readings: a step is a clock's error against true time after the restore minus before it.
 * D is the downtime, E the destination's realtime error minus the source's, S the stagger. The
 * readings cost the same guest time before and after, so the figures are exact to the ns but
 * for the pvclock's own truncation (a few ns).
 */
class MigrationTest {
    private static final long MS = 1_000_000L;
    private static final long D = 100 * MS;
    private static final long TOLERANCE = 1_000;

    private static MigrationSetup setup(Map<String, Long> src, Map<String, Long> dst, long ntp, long stagger, int vcpus,
            long uptime) {
        Map<String, Long> d = new HashMap<>(dst);
        d.put("ntp-offset", ntp);
        return new MigrationSetup("test", src, d, vcpus, 0, uptime, D, stagger, 200 * MS);
    }

    private static MigrationResult run(MigrationSetup setup, String strategy) {
        MigrationResult r = MigrationExperiment.run(Unicorn.get(), setup, RestoreStrategy.named(strategy));
        assertNull(r.failure(), strategy);
        return r;
    }

    private static void near(long expected, MigrationResult r, ToLongFunction<MigrationResult.Vcpu> clock, String what) {
        for (MigrationResult.Vcpu v : r.vcpus()) {
            long got = clock.applyAsLong(v);
            assertTrue(Math.abs(got - expected) <= TOLERANCE, r.strategy() + " vCPU " + v.vcpu() + " " + what + ": expected "
                    + expected + " +- " + TOLERANCE + " ns, got " + got);
        }
    }

    static List<Arguments> hostPairs() {
        Map<String, Long> vmx3 = Map.of("tsc-khz", 3_000_000L);
        Map<String, Long> vmx25 = Map.of("tsc-khz", 2_500_000L);
        Map<String, Long> svm3 = Map.of("tsc-khz", 3_000_000L, "frac-bits", 32L);
        Map<String, Long> svm25 = Map.of("tsc-khz", 2_500_000L, "frac-bits", 32L);
        return List.of(
                Arguments.of("same kHz", vmx3, vmx3, 0L), Arguments.of("same kHz", vmx3, vmx3, 20 * MS),
                Arguments.of("3.0 to 2.5 GHz", vmx3, vmx25, 0L), Arguments.of("3.0 to 2.5 GHz", vmx3, vmx25, 20 * MS),
                Arguments.of("48 to 32 frac bits", vmx3, svm25, 0L), Arguments.of("SVM 3.0 to 2.5", svm3, svm25, -20 * MS));
    }

    @ParameterizedTest(name = "{0}, NTP error {3} ns")
    @MethodSource("hostPairs")
    void eachStrategyGivesItsCharacteristicSteps(String name, Map<String, Long> src, Map<String, Long> dst, long e) {
        MigrationSetup setup = setup(src, dst, e, 0, 2, 2_000 * MS);
        boolean sameRate = src.get("tsc-khz").equals(dst.get("tsc-khz"));
        MigrationResult stop = run(setup, "stop");
        near(-D, stop, MigrationResult.Vcpu::tscStepNs, "TSC");
        near(-D, stop, MigrationResult.Vcpu::kvmclockStepNs, "kvmclock");
        MigrationResult offset = run(setup, "offset-realtime");
        near(e, offset, MigrationResult.Vcpu::kvmclockStepNs, "kvmclock");
        if (sameRate) {
            near(e, offset, MigrationResult.Vcpu::tscStepNs, "TSC");
        } else {
            // (ratio - 1) x the destination's host TSC, in guest ns: hundreds of ms after 2 s of uptime.
            assertTrue(Math.abs(offset.worst(MigrationResult.Vcpu::disagreementNs)) > 100 * MS, offset.vcpus().toString());
        }
        for (String exact : List.of("tsc-value", "clock-guest")) {
            MigrationResult r = run(setup, exact);
            near(e, r, MigrationResult.Vcpu::tscStepNs, "TSC");
            near(e, r, MigrationResult.Vcpu::kvmclockStepNs, "kvmclock");
            assertTrue(r.masterClock(), exact + ": the master clock is back");
        }
        for (String vmm : List.of("firecracker-realtime", "cloud-hypervisor")) {
            MigrationResult r = run(setup, vmm);
            near(-D, r, MigrationResult.Vcpu::tscStepNs, "TSC");
            near(e, r, MigrationResult.Vcpu::kvmclockStepNs, "kvmclock");
            assertEquals(vmm.equals("firecracker-realtime"), r.guestStopped(), vmm + ": KVMCLOCK_CTRL");
        }
        assertAll(() -> assertEquals(0, stop.tscRegressions()), () -> assertEquals(0, stop.kvmclockRegressions()));
    }

    @Test
    void theStaggerCostsStopsKvmclockTheVmmsTimeButNotTscValue() {
        Map<String, Long> host = Map.of("tsc-khz", 3_000_000L);
        MigrationSetup staggered = setup(host, host, 0, 200 * MS, 4, 2_000 * MS);
        // stop: every TSC write joins vCPU 0's generation (within its one-second window), but
        // KVM_SET_CLOCK comes after the last vCPU: kvmclock loses the 3 x 200 ms too.
        MigrationResult stop = run(staggered, "stop");
        near(-D, stop, MigrationResult.Vcpu::tscStepNs, "TSC");
        near(-D - 3 * 200 * MS, stop, MigrationResult.Vcpu::kvmclockStepNs, "kvmclock");
        MigrationResult value = run(staggered, "tsc-value");
        near(0, value, MigrationResult.Vcpu::tscStepNs, "TSC");
        near(0, value, MigrationResult.Vcpu::kvmclockStepNs, "kvmclock");
        // Past the window: vCPU 1's write 1.5 s after vCPU 0's starts a generation of its own.
        MigrationSetup slow = setup(host, host, 0, 1_500 * MS, 2, 2_000 * MS);
        MigrationResult split = run(slow, "stop");
        assertEquals(-D, split.vcpus().get(0).tscStepNs(), TOLERANCE);
        assertEquals(-D - 1_500 * MS, split.vcpus().get(1).tscStepNs(), TOLERANCE);
        assertFalse(split.masterClock(), "two generations: no master clock");
        assertTrue(split.tscRegressions() > 0, "vCPU 1 is 1.5 s behind vCPU 0");
    }

    @Test
    void theDowntimeIsInEveryClockOfStopAndInNoneOfTscValue() {
        Map<String, Long> host = Map.of("tsc-khz", 3_000_000L);
        MigrationSetup longer = new MigrationSetup("1 s", host, host, 2, 0, 2_000 * MS, 1_000 * MS, 0, 200 * MS);
        MigrationResult stop = run(longer, "stop");
        near(-1_000 * MS, stop, MigrationResult.Vcpu::tscStepNs, "TSC");
        near(-1_000 * MS, stop, MigrationResult.Vcpu::kvmclockStepNs, "kvmclock");
        MigrationResult value = run(longer, "tsc-value");
        near(0, value, MigrationResult.Vcpu::tscStepNs, "TSC");
        near(0, value, MigrationResult.Vcpu::kvmclockStepNs, "kvmclock");
        // The VMM's KVM_GET_CLOCK agrees with the guest.
        assertEquals(-1_000 * MS, stop.vmmKvmclockStepNs(), TOLERANCE);
        assertEquals(0, value.vmmKvmclockStepNs(), TOLERANCE);
    }

    @Test
    void aGuestYoungerThanTheSyncWindowIsRestoredLikeAnOlderOne() {
        Map<String, Long> host = Map.of("tsc-khz", 3_000_000L);
        MigrationResult young = run(setup(host, host, 0, 0, 2, 300 * MS), "stop");
        near(-D, young, MigrationResult.Vcpu::tscStepNs, "TSC");
        assertTrue(young.masterClock());
    }

    @Test
    void aCrystalErrorOnTheDestinationShowsInTheDriftNotTheStep() {
        Map<String, Long> src = Map.of("tsc-khz", 3_000_000L);
        Map<String, Long> dst = Map.of("tsc-khz", 3_000_000L, "crystal-ppm", 40L);
        MigrationResult r = run(setup(src, dst, 0, 0, 1, 2_000 * MS), "tsc-value");
        near(0, r, MigrationResult.Vcpu::tscStepNs, "TSC");
        // The guest TSC runs 40 ppm fast on the destination; kvmclock with it (pvclock from the
        // believed 3,000,000 kHz).
        assertEquals(40_000, r.tscDriftPpb(), 2);
        assertEquals(40_000, r.kvmclockDriftPpb(), 2);
    }

    @Test
    void anNtpSlewOnTheDestinationMovesWhatRealtimeStrategiesAdd() {
        Map<String, Long> src = Map.of("tsc-khz", 3_000_000L);
        Map<String, Long> dst = Map.of("tsc-khz", 3_000_000L, "ntp-slew-ppb", 500_000L);
        MigrationSetup setup = new MigrationSetup("slew", src, dst, 1, 0, 2_000 * MS, D, 0, 200 * MS);
        MigrationResult r = run(setup, "tsc-value");
        // Realtime on the destination has gained 500 ppm of its 2.1 s of true time by the restore.
        long gained = r.vcpus().getFirst().kvmclockStepNs();
        assertTrue(gained > 1_040 * 1_000 && gained < 1_060 * 1_000, "about 1.05 ms, got " + gained);
        near(gained, r, MigrationResult.Vcpu::tscStepNs, "TSC");
    }
}
