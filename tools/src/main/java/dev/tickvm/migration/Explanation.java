package dev.tickvm.migration;

import dev.tickvm.vm.HostSpec;
import java.util.Locale;
import java.util.Map;

/**
 * One line per strategy that says why its numbers are what they are, from the formulas of
 * docs/MIGRATION.md and the setup's variables (downtime, NTP errors, frequencies, stagger).
 */
public final class Explanation {
    private Explanation() {
    }

    /** The NTP offset error of a host's CLOCK_REALTIME, ns (0 when not set). */
    static long ntp(Map<String, Long> host) {
        return host.getOrDefault("ntp-offset", host.getOrDefault("realtime-error", 0L));
    }

    static String ms(long nanos) {
        return String.format(Locale.ROOT, "%+.3f ms", nanos / 1e6);
    }

    public static String of(MigrationSetup setup, MigrationResult r) {
        if (r.failure() != null) {
            return r.strategy() + ": could not restore: " + r.failure();
        }
        long d = setup.downtimeNanos();
        long dn = ntp(setup.destination()) - ntp(setup.source());
        long kvm = r.worst(MigrationResult.Vcpu::kvmclockStepNs);
        long tsc = r.worst(MigrationResult.Vcpu::tscStepNs);
        String stagger = setup.staggerNanos() == 0 ? "" : String.format(Locale.ROOT, " and %s of stagger",
                ms(setup.staggerNanos()).substring(1));
        return switch (r.strategy()) {
            case "stop" -> String.format(Locale.ROOT, "stop: kvmclock %s and TSC %s against true time: the downtime (%s)%s"
                    + " is in neither, because the saved TSCs are written back and the clock is restored without"
                    + " REALTIME", ms(kvm), ms(tsc), ms(d).substring(1), stagger);
            case "offset-realtime" -> String.format(Locale.ROOT, "offset-realtime: kvmclock %s, the hosts' realtime"
                    + " difference (%s), because KVM_CLOCK_REALTIME counts the downtime in CLOCK_REALTIME; TSC %s: the"
                    + " offsets add the two hosts' TSC difference in host cycles%s", ms(kvm), ms(dn),
                    ms(tsc), sameRate(setup) ? ", right here since both hosts and the guest run at one rate"
                            : ", which is wrong by " + ms(tsc - kvm).substring(1) + " when the hosts' TSCs run at"
                                    + " different rates than the guest's");
            case "tsc-value" -> String.format(Locale.ROOT, "tsc-value: kvmclock %s and TSC %s: both off by the hosts'"
                    + " realtime difference (%s) that KVM_CLOCK_REALTIME brings in; KVM advances each TSC by the"
                    + " kvmclock since kvm_ns, in the guest's own cycles%s", ms(kvm), ms(tsc), ms(dn),
                    setup.staggerNanos() == 0 ? "" : ", so the stagger costs nothing");
            case "clock-guest" -> String.format(Locale.ROOT, "clock-guest: TSC %s (the realtime difference, %s) and"
                    + " kvmclock %s: KVM_SET_CLOCK_GUEST keeps kvmclock the same function of the TSC, so it takes no"
                    + " step of its own", ms(tsc), ms(dn), ms(kvm));
            case "firecracker-realtime" -> String.format(Locale.ROOT, "firecracker-realtime: TSC %s, the downtime, because"
                    + " the saved TSCs are written back; kvmclock %s, the realtime difference, because the clock is set"
                    + " with REALTIME: the two part by %s; KVM_KVMCLOCK_CTRL spares the guest's watchdogs", ms(tsc), ms(kvm),
                    ms(kvm - tsc).substring(1));
            case "cloud-hypervisor" -> String.format(Locale.ROOT, "cloud-hypervisor: TSC %s (saved TSCs), kvmclock %s"
                    + " (KVM_SET_CLOCK with the saved REALTIME flag): %s apart, and with no KVM_KVMCLOCK_CTRL on the"
                    + " restore the guest's clocksource watchdog sees it", ms(tsc), ms(kvm), ms(kvm - tsc).substring(1));
            default -> r.strategy() + ": kvmclock " + ms(kvm) + ", TSC " + ms(tsc);
        };
    }

    /** True when the guest, the source and the destination TSCs all run at one kHz (no scaling anywhere). */
    static boolean sameRate(MigrationSetup setup) {
        long src = setup.source().getOrDefault("tsc-khz", HostSpecDefaults.KHZ);
        long dst = setup.destination().getOrDefault("tsc-khz", HostSpecDefaults.KHZ);
        long guest = setup.guestKhz() == 0 ? src : setup.guestKhz();
        return src == dst && guest == src;
    }

    /** The default host frequency, for settings that leave it out. */
    private static final class HostSpecDefaults {
        static final long KHZ = dev.tickvm.host.SimulatedHost.DEFAULT_TSC_KHZ;
    }

    static {
        // HostSpec's keys are what setups use; referenced so that a renamed key shows up here.
        assert HostSpec.KEYS.contains("ntp-offset");
    }
}
