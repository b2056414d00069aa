package dev.tickvm.vm;

import dev.tickvm.devices.KvmClockDevice;
import dev.tickvm.kvm.KvmVm;
import java.util.List;
import java.util.Locale;

/**
 * How a VMM puts a saved VM's time back on a destination: which control-plane calls it makes and
 * in which order (docs/TIME.md section 8). Every strategy gets the same saved state and a freshly
 * created destination VM (its vCPUs created, never run, RAM and registers in place); only the
 * procedure differs, and with it what the guest sees.
 */
public interface RestoreStrategy {

    /** The name on the command line and in scenarios, e.g. "stop". */
    String name();

    /** One line: what the strategy does to guest time. */
    String summary();

    /**
     * Restores the kernel's time state and starts the VM's clock: after this the vCPUs may run.
     *
     * @param destination the new VM, on the destination host, with its vCPUs created
     * @param saved       what the source's control plane gave at the save
     * @param clockDevice the destination's kvmclock device (QEMU's), which puts the VM clock back
     */
    void restore(KvmVm destination, KvmSaved saved, KvmClockDevice clockDevice, Pace pace);

    /** As above, with no time between the per-vCPU calls. */
    default void restore(KvmVm destination, KvmSaved saved, KvmClockDevice clockDevice) {
        restore(destination, saved, clockDevice, Pace.NONE);
    }

    /**
     * How long a VMM takes between one vCPU's restore calls and the next one's (the stagger):
     * a strategy calls {@link #betweenVcpus} before each vCPU after the first.
     */
    @FunctionalInterface
    interface Pace {
        Pace NONE = () -> {
        };

        void betweenVcpus();
    }

    /**
     * The strategies tickvm knows, by name: docs/TIME.md section 8's four, then what today's VMMs
     * do where it differs from them (docs/MIGRATION.md cites their code).
     */
    static List<RestoreStrategy> all() {
        return List.of(new StopRestore(), new OffsetRealtimeRestore(), new TscValueRestore(), new ClockGuestRestore(),
                new FirecrackerRealtimeRestore(), new CloudHypervisorRestore());
    }

    /** The strategy called {@code name}. */
    static RestoreStrategy named(String name) {
        return all().stream().filter(s -> s.name().equals(name.toLowerCase(Locale.ROOT))).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown restore strategy '" + name + "' (known: "
                        + String.join(", ", all().stream().map(RestoreStrategy::name).toList()) + ")"));
    }
}
