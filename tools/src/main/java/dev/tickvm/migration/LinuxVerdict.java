package dev.tickvm.migration;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a Linux guest would make of a migration's numbers, by the kernel's own thresholds
 * (docs/MIGRATION.md cites each):
 * <ul>
 * <li>the clocksource watchdog (kernel/time/clocksource.c) marks the TSC unstable when it and
 * kvm-clock part by more than the two clocksources' uncertainty margins, 2 x 2 x
 * CONFIG_CLOCKSOURCE_WATCHDOG_MAX_SKEW_US (125 us) = 500 us, unless PVCLOCK_GUEST_STOPPED made
 * kvm_check_and_clear_guest_paused touch the watchdog first;</li>
 * <li>the soft-lockup detector (kernel/watchdog.c) reports a CPU stuck when its clock jumps past
 * 2 x watchdog_thresh = 20 s, and RCU a stall past CONFIG_RCU_CPU_STALL_TIMEOUT = 21 s, both
 * unless PVCLOCK_GUEST_STOPPED is seen;</li>
 * <li>a kvmclock that goes back does not make CLOCK_MONOTONIC go back: clocksource_delta turns the
 * negative delta into 0, so the guest's time stands still until kvmclock catches up;</li>
 * <li>CLOCK_REALTIME follows kvmclock (Linux never re-reads the wall clock after boot); ntpd in the
 * guest steps it when it is off by more than 128 ms, and slews it (at most 500 ppm) otherwise.</li>
 * </ul>
 */
public final class LinuxVerdict {
    public static final long WATCHDOG_MARGIN_NS = 4 * 125_000L;
    public static final long SOFTLOCKUP_NS = 20_000_000_000L;
    public static final long RCU_STALL_NS = 21_000_000_000L;
    public static final long NTPD_STEP_NS = 128_000_000L;

    private LinuxVerdict() {
    }

    /**
     * One short phrase per consequence, or "nothing" when the guest would not notice. The
     * watchdogs see how far the guest's clock moved across the gap: the downtime plus the step.
     */
    public static List<String> of(MigrationSetup setup, MigrationResult r) {
        List<String> out = new ArrayList<>();
        if (r.failure() != null) {
            return List.of("-");
        }
        long disagreement = r.worst(MigrationResult.Vcpu::disagreementNs);
        long kvm = r.worst(MigrationResult.Vcpu::kvmclockStepNs);
        if (Math.abs(disagreement) > WATCHDOG_MARGIN_NS && !r.guestStopped()) {
            out.add("TSC marked unstable");
        }
        long jump = kvm + setup.downtimeNanos();
        if (jump > SOFTLOCKUP_NS && !r.guestStopped()) {
            out.add(jump > RCU_STALL_NS ? "soft lockup and RCU stall reports" : "soft lockup report");
        }
        if (r.vcpus().stream().anyMatch(MigrationResult.Vcpu::kvmclockBack)) {
            out.add("CLOCK_MONOTONIC stands still until kvmclock catches up");
        }
        if (r.kvmclockRegressions() > 0) {
            out.add("kvmclock read backwards across vCPUs");
        }
        // The guest's realtime is off by the kvmclock step, plus the downtime when kvmclock stopped.
        if (Math.abs(kvm) > NTPD_STEP_NS) {
            out.add(String.format(Locale.ROOT, "ntpd steps the wall clock by %.3f s", -kvm / 1e9));
        } else if (kvm != 0 && Math.abs(kvm) > 1_000_000) {
            out.add(String.format(Locale.ROOT, "ntpd slews the wall clock for %.0f s", Math.abs(kvm) / 500e3));
        }
        return out.isEmpty() ? List.of("nothing") : out;
    }
}
