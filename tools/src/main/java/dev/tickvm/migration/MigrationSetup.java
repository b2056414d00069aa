package dev.tickvm.migration;

import java.util.Map;

/**
 * One migration to measure: two hosts (HostSpec settings), the VM, and the timing. Every restore
 * strategy gets the same setup; only the restore differs (docs/MIGRATION.md).
 *
 * @param name        for titles and reports
 * @param source      the source host's settings (the scenario language's host keys)
 * @param destination the destination host's
 * @param vcpus       1 to 64
 * @param guestKhz    the guest TSC frequency (KVM_SET_TSC_KHZ on the VM); 0: the source host's
 * @param uptimeNanos true time from the VM's creation to the migration (under 1 s: inside
 *                    kvm_synchronize_tsc's one-second window)
 * @param downtimeNanos true time with no VM running
 * @param staggerNanos  the VMM's time between one vCPU's restore calls and the next one's
 * @param afterNanos    how long the guest is watched after the restore (its drift)
 */
public record MigrationSetup(String name, Map<String, Long> source, Map<String, Long> destination, int vcpus,
        long guestKhz, long uptimeNanos, long downtimeNanos, long staggerNanos, long afterNanos) {

    /** The demo's: 4 vCPUs, a 3.0 GHz source, a 2.5 GHz destination, 100 ms of downtime, 20 ms of NTP error. */
    public static final MigrationSetup DEFAULT = new MigrationSetup("3.0 GHz to 2.5 GHz, 100 ms downtime, 20 ms NTP error",
            Map.of("tsc-khz", 3_000_000L), Map.of("tsc-khz", 2_500_000L, "ntp-offset", 20_000_000L), 4, 0,
            2_000_000_000L, 100_000_000L, 0, 1_000_000_000L);

    public MigrationSetup {
        source = Map.copyOf(source);
        destination = Map.copyOf(destination);
        if (vcpus < 1 || vcpus > 64) {
            throw new IllegalArgumentException("vcpus must be 1 to 64, got " + vcpus);
        }
        if (guestKhz < 0 || uptimeNanos < 0 || downtimeNanos < 0 || staggerNanos < 0 || afterNanos < 0) {
            throw new IllegalArgumentException("frequencies and durations cannot be negative");
        }
        if (afterNanos < 100_000_000L) {
            throw new IllegalArgumentException("watch the guest at least 100 ms after the restore, got " + afterNanos + " ns");
        }
    }
}
