package dev.tickvm.cpu;

/**
 * What a vCPU asks of the hypervisor layer when the guest executes a trapped instruction: the
 * kvm layer implements it with KVM's semantics. One instance per vCPU.
 */
public interface TrapEmulator {

    /** The guest TSC now (RDTSC, RDTSCP, RDMSR 0x10). */
    long readTsc();

    /** IA32_TSC_AUX, which RDTSCP returns in ECX. */
    long readTscAux();

    /**
     * A guest RDMSR.
     *
     * @throws UnknownMsrException if the MSR does not exist (KVM would inject #GP)
     */
    long readMsr(int index);

    /**
     * A guest WRMSR.
     *
     * @throws UnknownMsrException if the MSR does not exist or refuses the value (#GP on KVM)
     */
    void writeMsr(int index, long value);

    /**
     * A guest CPUID. Returns {eax, ebx, ecx, edx}, or null to let the emulated CPU answer.
     */
    int[] cpuid(int leaf, int subleaf);

    /**
     * Called each time the vCPU is about to enter the guest (each scheduling turn), like KVM's
     * request processing in vcpu_enter_guest: deferred work such as a clock update is due here.
     */
    default void beforeEntry() {
    }

    /** Called each time the vCPU leaves the guest at the end of a scheduling turn (a VM exit). */
    default void afterExit() {
    }

    /**
     * Whether the vCPU should report its traps and exits to {@link #trace} (docs/TRACE.md). The
     * vCPU tests this before it builds an event, so tracing off costs one branch per trap.
     */
    default boolean tracing() {
        return false;
    }

    /** Records a trap or exit event of this vCPU (called only when {@link #tracing()}). */
    default void trace(dev.tickvm.trace.TraceEvent event) {
    }
}
