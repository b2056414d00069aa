package dev.tickvm.tools;

import dev.tickvm.cpu.TrapMode;
import dev.tickvm.host.HostClock;
import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.images.GuestImage;
import dev.tickvm.machine.Machine;
import dev.tickvm.machine.VmExit;
import dev.tickvm.snapshot.Progress;
import dev.tickvm.snapshot.SnapshotIoException;
import dev.tickvm.vm.HostSpec;
import dev.tickvm.vm.VirtualMachine;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Runs a guest image in a {@link VirtualMachine} on a simulated host: the kvm layer (KVM's TSC,
 * MSRs and kvmclock), COM1 serial at 0x3f8 and the debug-exit port at 0xf4. Shared by the run and
 * demo commands and their tests.
 */
public final class GuestRun {
    /** What a run produced. */
    public record Result(VmExit exit, int vcpus, long blocks, long traps, long hostNanos, long wallNanos) {
        /** One line for people, e.g. for the end of {@code tickvm run}. */
        public String summary(String clockKind) {
            return String.format("%s (%s, %s, %s, host time %s %s, wall %s)",
                    exit.describe(), Words.count(vcpus, "vCPU"), Words.count(traps, "trapped instruction"),
                    Words.count(blocks, "block"), Durations.format(hostNanos),
                    clockKind, Durations.format(wallNanos));
        }
    }

    private final GuestImage image;
    private int vcpus;
    private long memorySize = 16L << 20;
    private HostClock clock;
    private long budget = Machine.DEFAULT_BUDGET;
    private long quantum = Machine.DEFAULT_QUANTUM;
    private Map<String, Long> hostSettings = Map.of();
    private Progress progress = Progress.NONE;
    private WorkProgress runProgress = WorkProgress.OFF;

    public GuestRun(GuestImage image) {
        this.image = image;
        this.vcpus = image.defaultVcpus();
    }

    public GuestRun vcpus(int n) {
        this.vcpus = n;
        return this;
    }

    public GuestRun memorySize(long bytes) {
        this.memorySize = bytes;
        return this;
    }

    public GuestRun clock(HostClock clock) {
        this.clock = clock;
        return this;
    }

    public GuestRun budget(long blocks) {
        this.budget = blocks;
        return this;
    }

    public GuestRun quantum(long blocks) {
        this.quantum = blocks;
        return this;
    }

    /** The simulated host's settings (HostSpec keys); the cost model comes with the clock. */
    public GuestRun host(Map<String, Long> settings) {
        this.hostSettings = Map.copyOf(settings);
        return this;
    }

    /** Told how a save is going. */
    public GuestRun progress(Progress progress) {
        this.progress = progress;
        return this;
    }

    /** Told how the run is going (blocks run of the budget, host time), after every scheduling turn. */
    public GuestRun runProgress(WorkProgress runProgress) {
        this.runProgress = runProgress;
        return this;
    }

    /** Boots the image and runs it to the end; serial output goes to {@code serialOut}. */
    public Result run(IntConsumer serialOut) {
        try {
            return run(serialOut, -1, null);
        } catch (SnapshotIoException e) {
            throw new IllegalStateException("unreachable: nothing is saved", e);
        }
    }

    /**
     * Boots the image and runs it to the end, or, with {@code saveAtNanos} >= 0, until the host
     * clock reaches that time, and then saves the VM to {@code snapshot} (the result's exit is then
     * {@link VmExit.TimeReached}).
     */
    public Result run(IntConsumer serialOut, long saveAtNanos, Path snapshot) throws SnapshotIoException {
        HostClock c = clock != null ? clock : new VirtualClock();
        SimulatedHost host = HostSpec.build("host", c, hostSettings);
        long wallStart = System.nanoTime();
        try (VirtualMachine vm = VirtualMachine.boot(Main.unicorn(), host, image, vcpus, memorySize, 0,
                new VirtualMachine.Settings(quantum, budget, TrapMode.PATCH), serialOut)) {
            VmExit exit;
            try {
                watch(vm.machine(), runProgress, image.name(), saveAtNanos);
                exit = saveAtNanos >= 0 ? vm.run(saveAtNanos) : vm.run();
            } finally {
                runProgress.finish();
            }
            if (exit instanceof VmExit.TimeReached && snapshot != null) {
                vm.save(snapshot, new byte[0], progress);
            }
            return result(vm, exit, wallStart);
        }
    }

    /**
     * Reports a machine's run to {@code progress} as {@code task}: blocks run of its budget (a
     * runaway's bound), and host time (of {@code untilNanos} if that is >= 0). It only looks.
     */
    static void watch(Machine machine, WorkProgress progress, String task, long untilNanos) {
        if (progress == WorkProgress.OFF) {
            return;
        }
        progress.start(task);
        machine.observeTurns(() -> progress.update(machine.blocks(), machine.budget(), "blocks",
                () -> "host time " + Durations.format(machine.clock().nanos())
                        + (untilNanos >= 0 ? " of " + Durations.format(untilNanos) : "")));
    }

    /** What a VM's run gave, for {@link Result}. */
    static Result result(VirtualMachine vm, VmExit exit, long wallStart) {
        Machine machine = vm.machine();
        long traps = machine.vcpus().stream().mapToLong(v -> v.traps()).sum();
        return new Result(exit, machine.vcpus().size(), machine.blocks(), traps, machine.clock().nanos(),
                System.nanoTime() - wallStart);
    }
}
