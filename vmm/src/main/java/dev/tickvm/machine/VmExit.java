package dev.tickvm.machine;

import dev.tickvm.cpu.VcpuExit;

/** How a whole VM run ended. */
public sealed interface VmExit {

    /** The guest asked to end (debug-exit port) with this code. */
    record Exited(int code) implements VmExit {
    }

    /** Every vCPU executed HLT and nothing can wake them. */
    record AllHalted() implements VmExit {
    }

    /** A vCPU faulted; the VM cannot go on. */
    record Faulted(int vcpu, VcpuExit.Fault fault) implements VmExit {
    }

    /**
     * The guest ran its whole block budget without stopping (a runaway loop). {@code sites} time
     * instructions were trapped and patched for the first time on the way; each past the first
     * {@link Machine#FREE_SITES} counted as {@link Machine#BLOCKS_PER_NEW_SITE} blocks, because a
     * first-time site costs what thousands of blocks cost.
     */
    record BudgetExhausted(long blocks, int vcpu, long rip, long sites) implements VmExit {
        public BudgetExhausted(long blocks, int vcpu, long rip) {
            this(blocks, vcpu, rip, 0);
        }
    }

    /** An I/O handler asked to pause the VM (e.g. a probe reported); it can be run again. */
    record Paused(int vcpu) implements VmExit {
    }

    /** The host clock reached the time the VMM asked to stop at, between two turns; it can be run again. */
    record TimeReached(long nanos) implements VmExit {
    }

    /** One line for people. */
    default String describe() {
        return switch (this) {
            case Exited e -> "guest exited with code " + e.code();
            case AllHalted h -> "all vCPUs halted with nothing to wake them";
            case Faulted f -> "vCPU " + f.vcpu() + ": " + f.fault().message();
            case BudgetExhausted b -> String.format(
                    "guest ran %,d blocks without stopping (the budget)%s; vCPU %d was at RIP 0x%x", b.blocks(),
                    b.sites() <= Machine.FREE_SITES ? "" : String.format(", %,d of them for its %,d new trap sites",
                            (b.sites() - Machine.FREE_SITES) * Machine.BLOCKS_PER_NEW_SITE, b.sites()), b.vcpu(), b.rip());
            case Paused p -> "paused by vCPU " + p.vcpu();
            case TimeReached t -> String.format("stopped at %,d ns of host time, as asked", t.nanos());
        };
    }

    /**
     * The process exit code a command line tool should use: a guest's code 0..255 as it is (so 3,
     * 4 and 5 are ambiguous, as with QEMU's isa-debug-exit), any other code 255, so that a non-zero
     * code never wraps to 0 (256) and a negative one is not mistaken for a small positive one; 3
     * when all vCPUs halted, 4 on a fault, 5 when the budget ran out, 0 when paused or stopped at a
     * time.
     */
    default int exitCode() {
        return switch (this) {
            case Exited e -> e.code() >= 0 && e.code() <= 255 ? e.code() : 255;
            case Paused p -> 0;
            case TimeReached t -> 0;
            case AllHalted h -> 3;
            case Faulted f -> 4;
            case BudgetExhausted b -> 5;
        };
    }
}
