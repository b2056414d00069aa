package dev.tickvm.tools;

import dev.tickvm.devices.DebugExit;
import dev.tickvm.devices.Serial16550;
import dev.tickvm.host.HostClock;
import dev.tickvm.images.GuestImage;
import dev.tickvm.machine.IoOutHandler;
import dev.tickvm.machine.Machine;
import dev.tickvm.machine.VmExit;
import java.util.function.IntConsumer;

/**
 * Runs a guest image on a standard PC-like machine: COM1 serial at 0x3f8 and the debug-exit
 * port at 0xf4. Shared by the run and demo commands and their tests.
 */
public final class GuestRun {
    /** What a run produced. */
    public record Result(VmExit exit, int vcpus, long blocks, long traps, long hostNanos, long wallNanos) {
        /** One line for people, e.g. for the end of {@code tickvm run}. */
        public String summary(String clockKind) {
            return String.format("%s (%d vCPU%s, %,d trapped instructions, %,d blocks, host time %s %s, wall %s)",
                    exit.describe(), vcpus, vcpus == 1 ? "" : "s", traps, blocks, Durations.format(hostNanos),
                    clockKind, Durations.format(wallNanos));
        }
    }

    private final GuestImage image;
    private int vcpus;
    private long memorySize = 16L << 20;
    private HostClock clock;
    private long budget = Machine.DEFAULT_BUDGET;
    private long quantum = Machine.DEFAULT_QUANTUM;

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

    /** Boots the image and runs it to the end; serial output goes to {@code serialOut}. */
    public Result run(IntConsumer serialOut) {
        DebugExit debugExit = new DebugExit();
        Machine.Builder builder = Machine.builder()
                .vcpus(vcpus)
                .memorySize(memorySize)
                .budget(budget)
                .quantum(quantum)
                .device(Serial16550.COM1, Serial16550.PORTS, new Serial16550(serialOut))
                .device(DebugExit.PORT, DebugExit.PORTS, debugExit)
                .onIoOut((vcpu, out) -> debugExit.exitCode().isPresent()
                        ? new IoOutHandler.IoAction.Exit(debugExit.exitCode().getAsInt())
                        : IoOutHandler.IoAction.CONTINUE)
                .image(image.loadAddress(), image.entry(), image.code());
        if (clock != null) {
            builder.clock(clock);
        }
        long wallStart = System.nanoTime();
        try (Machine machine = builder.build()) {
            VmExit exit = machine.run();
            long traps = machine.vcpus().stream().mapToLong(v -> v.traps()).sum();
            return new Result(exit, vcpus, machine.blocks(), traps, machine.clock().nanos(),
                    System.nanoTime() - wallStart);
        }
    }
}
