package dev.tickvm.kvm;

/**
 * KVM's CPUID as a guest sees it: the CPU model's own leaves with the hypervisor and TSC bits
 * KVM adds, and KVM's paravirtual leaves (docs/TIME.md section 4). Leaves not listed here are the
 * CPU model's, answered by the emulator.
 */
final class Cpuid {
    static final int KVM_SIGNATURE_LEAF = 0x4000_0000;
    static final int KVM_FEATURES_LEAF = 0x4000_0001;
    static final int KVM_TIMING_LEAF = 0x4000_0010;
    /** "KVMKVMKVM\0\0\0" as EBX, ECX, EDX. */
    static final int SIGNATURE_EBX = 0x4b4d564b;
    static final int SIGNATURE_ECX = 0x564b4d56;
    static final int SIGNATURE_EDX = 0x4d;
    static final int HYPERVISOR_BIT = 1 << 31;
    static final int TSC_ADJUST_BIT = 1 << 1;
    static final int RDTSCP_BIT = 1 << 27;
    static final int INVARIANT_TSC_BIT = 1 << 8;
    static final long APIC_KHZ = 1_000_000;
    /** KVM_FEATURE_CLOCKSOURCE (0), CLOCKSOURCE2 (3), CLOCKSOURCE_STABLE_BIT (24). */
    static final int KVM_CLOCK_FEATURES = 1 | 1 << 3 | 1 << 24;

    private Cpuid() {
    }

    /** "AuthenticAMD" as EBX, EDX, ECX. */
    static final int AMD_EBX = 0x68747541;
    static final int AMD_EDX = 0x69746e65;
    static final int AMD_ECX = 0x444d4163;

    static int[] answer(KvmVcpu vcpu, int leaf, int subleaf) {
        return switch (leaf) {
            // A guest gets its host's vendor: AMD on an SVM host (the CPU model is Intel's).
            case 0x0 -> vcpu.vm().guestIntelCompatible() ? null : amdVendor(vcpu, subleaf);
            // The max hypervisor leaf is 0x40000010 because the timing leaf is exposed, as
            // QEMU does with invtsc and a known TSC frequency.
            case KVM_SIGNATURE_LEAF -> new int[] {KVM_TIMING_LEAF, SIGNATURE_EBX, SIGNATURE_ECX, SIGNATURE_EDX};
            case KVM_FEATURES_LEAF -> new int[] {KVM_CLOCK_FEATURES, 0, 0, 0};
            case KVM_TIMING_LEAF -> new int[] {(int) vcpu.getTscKhz(), (int) APIC_KHZ, 0, 0};
            case 0x1 -> withBit(vcpu, leaf, subleaf, 2, HYPERVISOR_BIT);
            case 0x7 -> subleaf == 0 ? withBit(vcpu, leaf, subleaf, 1, TSC_ADJUST_BIT) : null;
            case 0x8000_0001 -> withBit(vcpu, leaf, subleaf, 3, RDTSCP_BIT);
            case 0x8000_0007 -> withBit(vcpu, leaf, subleaf, 3, INVARIANT_TSC_BIT);
            default -> leaf > KVM_FEATURES_LEAF && leaf < KVM_TIMING_LEAF ? new int[] {0, 0, 0, 0} : null;
        };
    }

    private static int[] amdVendor(KvmVcpu vcpu, int subleaf) {
        int[] regs = vcpu.vm().nativeCpuid(0, subleaf);
        regs[1] = AMD_EBX;
        regs[2] = AMD_ECX;
        regs[3] = AMD_EDX;
        return regs;
    }

    private static int[] withBit(KvmVcpu vcpu, int leaf, int subleaf, int register, int bit) {
        int[] regs = vcpu.vm().nativeCpuid(leaf, subleaf);
        regs[register] |= bit;
        return regs;
    }
}
