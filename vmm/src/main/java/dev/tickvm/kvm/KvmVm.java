package dev.tickvm.kvm;

import dev.tickvm.host.SimulatedHost;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The kernel half of a VM, for time: what KVM keeps in {@code struct kvm_arch} about TSC
 * synchronization, and the VM-wide ioctls. Runs on a {@link SimulatedHost}; knows nothing of
 * Unicorn. One thread at a time (the machine's scheduler thread).
 */
public final class KvmVm {
    private final SimulatedHost host;
    private final BiFunction<Integer, Integer, int[]> nativeCpuid;
    private final List<KvmVcpu> vcpus = new ArrayList<>();
    private long defaultTscKhz;

    // kvm_synchronize_tsc's VM-wide state (kvm->arch.*), see TIME.md section 5.
    long lastTscNsec;
    long lastTscWrite;
    long lastTscKhz;
    long lastTscOffset;
    long curTscGeneration;
    long curTscNsec;
    long curTscWrite;
    long curTscOffset;
    int nrVcpusMatchedTsc;
    boolean userSetTsc;

    /**
     * @param nativeCpuid the CPU model's own CPUID answers (leaf, subleaf) -> {eax, ebx, ecx, edx},
     *                    which the vCPUs extend with KVM's bits
     */
    public KvmVm(SimulatedHost host, BiFunction<Integer, Integer, int[]> nativeCpuid) {
        this.host = host;
        this.nativeCpuid = nativeCpuid;
        this.defaultTscKhz = host.tscKhz();
    }

    public SimulatedHost host() {
        return host;
    }

    public List<KvmVcpu> vcpus() {
        return Collections.unmodifiableList(vcpus);
    }

    public KvmVcpu vcpu(int id) {
        if (id < 0 || id >= vcpus.size()) {
            throw new KvmException(Errno.ENOENT, "no vCPU " + id + " (the VM has " + vcpus.size() + ")");
        }
        return vcpus.get(id);
    }

    /**
     * KVM_SET_TSC_KHZ on the VM: the frequency new vCPUs get. Only before any vCPU exists
     * (EINVAL after, as in Linux); 0 means the host's.
     */
    public void setTscKhz(long khz) {
        if (!vcpus.isEmpty()) {
            throw new KvmException(Errno.EINVAL, "KVM_SET_TSC_KHZ on the VM after vCPUs were created");
        }
        checkTscKhz(khz);
        defaultTscKhz = khz == 0 ? host.tscKhz() : khz;
    }

    /** KVM_GET_TSC_KHZ on the VM. */
    public long getTscKhz() {
        return defaultTscKhz;
    }

    /** KVM_CREATE_VCPU: the vCPU gets the VM's TSC frequency, then a TSC write of 0 synchronizes it. */
    public KvmVcpu createVcpu() {
        KvmVcpu vcpu = new KvmVcpu(this, vcpus.size());
        vcpu.setTscKhz(defaultTscKhz);
        vcpus.add(vcpu);
        vcpu.synchronizeTsc(0, false);
        return vcpu;
    }

    /**
     * Whether the master clock can be used: every vCPU matched in the current TSC generation
     * and a stable host TSC (kvm_track_tsc_matching / pvclock_update_vm_gtod_copy).
     */
    public boolean masterClockUsable() {
        return !vcpus.isEmpty() && nrVcpusMatchedTsc + 1 == vcpus.size() && host.tscStable();
    }

    /** The current TSC generation (for tests and reports). */
    public long tscGeneration() {
        return curTscGeneration;
    }

    /** vCPUs that joined the current generation after the one that started it. */
    public int vcpusMatched() {
        return nrVcpusMatchedTsc;
    }

    int[] nativeCpuid(int leaf, int subleaf) {
        return nativeCpuid.apply(leaf, subleaf);
    }

    void checkTscKhz(long khz) {
        if (khz < 0 || khz >= 0xffff_ffffL) {
            throw new KvmException(Errno.EINVAL, "TSC frequency " + khz + " kHz out of range");
        }
    }
}
