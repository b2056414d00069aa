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
    void restore(KvmVm destination, KvmSaved saved, KvmClockDevice clockDevice);

    /** The strategies tickvm knows, by name. */
    static List<RestoreStrategy> all() {
        return List.of(new StopRestore());
    }

    /** The strategy called {@code name}. */
    static RestoreStrategy named(String name) {
        return all().stream().filter(s -> s.name().equals(name.toLowerCase(Locale.ROOT))).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown restore strategy '" + name + "' (known: "
                        + String.join(", ", all().stream().map(RestoreStrategy::name).toList()) + ")"));
    }
}
