package dev.tickvm.cpu;

/** How a vCPU gets to emulate a time instruction; both give the guest the same results. */
public enum TrapMode {
    /**
     * Every execution faults (#GP at CPL3) and stops the engine; the VMM emulates and restarts
     * it. Never touches guest code. Costs one uc_emu_start per trap.
     */
    FAULT,
    /**
     * The first execution at a site faults as in FAULT; the VMM then rewrites the instruction as
     * {@code INT n} (padded with NOPs), which Unicorn hands to the interrupt hook without leaving
     * uc_emu_start, so later executions are emulated in the hook. See {@link PatchTable}.
     */
    PATCH
}
