package dev.tickvm.migration;

import java.util.List;

/**
 * What the guest saw of one migration with one strategy, from its own readings (the probe's
 * RDTSC, its pvclock reads and its wall clock), each against true time. A clock's "error" is its
 * reading (the TSC in ns at the guest's frequency, from CPUID 0x40000010) minus true time; its
 * "step" is the error just after the restore minus the error just before, so 0 means the clock
 * counted the downtime exactly, minus the downtime means it stopped, and more means it jumped.
 *
 * @param strategy        the restore strategy
 * @param failure         why the strategy could not restore this VM, or null
 * @param vcpus           per vCPU
 * @param tscDriftPpb     vCPU 0's TSC against true time after the restore, parts per billion
 * @param kvmclockDriftPpb vCPU 0's kvmclock against true time after the restore
 * @param tscRegressions  cross-vCPU TSC readings behind another vCPU's earlier one after the restore (the sync loop)
 * @param kvmclockRegressions the same for kvmclock, read as Linux does (TSC_STABLE trusted)
 * @param masterClock     whether the destination's pvclock pages had TSC_STABLE after the restore
 * @param guestStopped    whether the guest's pages had PVCLOCK_GUEST_STOPPED after the restore
 * @param vmmKvmclockStepNs the VMM's view: KVM_GET_CLOCK right after the restore, minus the one at
 *                        the save, minus the true time between them
 * @param series          vCPU 0's errors around the migration, for the plot
 */
public record MigrationResult(String strategy, String failure, List<Vcpu> vcpus, long tscDriftPpb,
        long kvmclockDriftPpb, long tscRegressions, long kvmclockRegressions, boolean masterClock, boolean guestStopped,
        long vmmKvmclockStepNs, List<Sample> series) {

    /**
     * One vCPU's steps across the migration, ns.
     *
     * @param disagreementNs kvmclock's step minus the TSC's: how far the two clocks the guest has
     *                       parted across the restore
     * @param tscBack        the TSC read after the restore was below the one before
     * @param kvmclockBack   kvmclock read after the restore was below the one before
     */
    public record Vcpu(int vcpu, long tscStepNs, long kvmclockStepNs, long wallStepNs, long disagreementNs,
            boolean tscBack, boolean kvmclockBack) {
    }

    /** vCPU 0's clocks at one instant: true time since the migration began (negative before), and each clock's error. */
    public record Sample(long trueNanos, long tscErrorNs, long kvmclockErrorNs, long wallErrorNs) {
    }

    static MigrationResult failed(String strategy, String why) {
        return new MigrationResult(strategy, why, List.of(), 0, 0, 0, 0, false, false, 0, List.of());
    }

    /** The largest step of one clock over every vCPU, by magnitude, keeping its sign. */
    public long worst(java.util.function.ToLongFunction<Vcpu> clock) {
        long worst = 0;
        for (Vcpu v : vcpus) {
            long x = clock.applyAsLong(v);
            if (Math.abs(x) > Math.abs(worst)) {
                worst = x;
            }
        }
        return worst;
    }
}
