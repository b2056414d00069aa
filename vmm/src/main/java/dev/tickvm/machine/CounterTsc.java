package dev.tickvm.machine;

import dev.tickvm.cpu.TrapEmulator;
import dev.tickvm.cpu.UnknownMsrException;
import dev.tickvm.host.HostClock;

/**
 * The simplest guest TSC: host nanoseconds times 3 (a 3 GHz TSC), IA32_TSC readable, no other
 * MSRs. CPUID is the emulated CPU's except for the hypervisor's timing leaf, which tells the
 * guest the TSC frequency (there is nothing else to calibrate it against): leaf 0x40000000 says
 * the highest hypervisor leaf is 0x40000010, with no vendor signature, and 0x40000010 gives EAX =
 * the TSC in kHz, as KVM (with QEMU) and VMware give it. No KVM signature, so no kvmclock. Stands
 * in until a machine is given the kvm layer.
 */
public final class CounterTsc implements TrapEmulator {
    /** The TSC frequency the formula gives, as the timing leaf reports it. */
    public static final int TSC_KHZ = 3_000_000;
    private static final int IA32_TSC = 0x10;
    private static final int HYPERVISOR_LEAF = 0x4000_0000;
    private static final int TIMING_LEAF = 0x4000_0010;
    private final HostClock clock;

    public CounterTsc(HostClock clock) {
        this.clock = clock;
    }

    @Override
    public long readTsc() {
        return clock.nanos() * 3;
    }

    @Override
    public long readTscAux() {
        return 0;
    }

    @Override
    public long readMsr(int index) {
        if (index == IA32_TSC) {
            return readTsc();
        }
        throw new UnknownMsrException(index, "not emulated");
    }

    @Override
    public void writeMsr(int index, long value) {
        throw new UnknownMsrException(index, "not emulated");
    }

    @Override
    public int[] cpuid(int leaf, int subleaf) {
        return switch (leaf) {
            case HYPERVISOR_LEAF -> new int[] {TIMING_LEAF, 0, 0, 0};
            case TIMING_LEAF -> new int[] {TSC_KHZ, 0, 0, 0};
            default -> leaf > HYPERVISOR_LEAF && leaf < TIMING_LEAF ? new int[] {0, 0, 0, 0} : null;
        };
    }
}
