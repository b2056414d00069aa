package dev.tickvm.cpu;

import java.util.Objects;

/**
 * Whether a vCPU can run, as the scheduler sees it: a closed set, part of a vCPU's saved state.
 * Without interrupts to deliver, a wake-up is the VMM's {@link Vcpu#wake}.
 */
public sealed interface VcpuRunState {
    VcpuRunState RUNNABLE = new Runnable();
    VcpuRunState HALTED = new Halted();
    VcpuRunState WAKE_PENDING = new WakePending();

    /** True if the scheduler may give this vCPU a turn. */
    default boolean runnable() {
        return this instanceof Runnable || this instanceof WakePending;
    }

    /** Runs when scheduled. */
    record Runnable() implements VcpuRunState {
    }

    /** Executed HLT and sleeps until woken; it then resumes after the HLT. */
    record Halted() implements VcpuRunState {
    }

    /**
     * Runs when scheduled, and was woken before it reached its HLT: that HLT returns at once,
     * as HLT falls through with an interrupt pending. Otherwise a wake-up just before a guest
     * goes to sleep would be lost.
     */
    record WakePending() implements VcpuRunState {
    }

    /** Stopped by a guest fault, for good: a guest cannot handle its own faults under Unicorn. */
    record Faulted(VcpuExit.Fault fault) implements VcpuRunState {
        public Faulted {
            Objects.requireNonNull(fault, "fault");
        }
    }
}
