package dev.tickvm.machine;

import dev.tickvm.cpu.TrapEmulator;
import dev.tickvm.cpu.UnknownMsrException;
import dev.tickvm.host.HostClock;

/**
 * The simplest guest TSC: host nanoseconds times 3 (a 3 GHz TSC), IA32_TSC readable, no other
 * MSRs, CPUID answered by the emulated CPU. Stands in until a machine is given the kvm layer.
 */
public final class CounterTsc implements TrapEmulator {
    private static final int IA32_TSC = 0x10;
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
        return null;
    }
}
