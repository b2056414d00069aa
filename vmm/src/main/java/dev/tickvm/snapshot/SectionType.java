package dev.tickvm.snapshot;

import java.util.Set;

/**
 * The section types of format 1.x, with their numeric ids on the wire. Ids are grouped with gaps
 * (0x10 memory, 0x20 vCPUs, 0x30 the kvm layer, 0x40 devices, 0x50 the VMM's own state) so that
 * related types added by later minors sit together; 0 is never a type, so a zero-filled region
 * is not mistaken for a section. A reader that meets an id it does not know skips the section if
 * its OPTIONAL flag is set and refuses the file otherwise (docs/SNAPSHOT.md, versioning).
 */
public enum SectionType {
    /** Format-level facts: versions, source host, vCPU count, RAM size, times at save. First, exactly once. */
    HEADER(0x0001, Multiplicity.ONCE, Format.MAX_HEADER_PAYLOAD),
    /** Section count and a digest of all section CRCs. Last, exactly once. */
    END(0x0002, Multiplicity.ONCE, Format.MAX_END_PAYLOAD),
    /** Guest RAM, zero pages left out. Exactly once; its length bound follows from the header's RAM size. */
    RAM(0x0010, Multiplicity.ONCE, Format.MAX_PAYLOAD),
    /** One vCPU's architectural state; one per vCPU, index = vCPU id. */
    VCPU(0x0020, Multiplicity.PER_VCPU, Format.MAX_COMPONENT_PAYLOAD),
    /** The kvm layer's VM-wide state (clock, TSC synchronisation). At most once. */
    KVM_VM(0x0030, Multiplicity.AT_MOST_ONCE, Format.MAX_COMPONENT_PAYLOAD),
    /** The kvm layer's per-vCPU state (TSC offset and scaling, MSRs, kvmclock); for every vCPU or none. */
    KVM_VCPU(0x0031, Multiplicity.PER_VCPU_OR_NONE, Format.MAX_COMPONENT_PAYLOAD),
    /** Device state. At most once. */
    DEVICES(0x0040, Multiplicity.AT_MOST_ONCE, Format.MAX_COMPONENT_PAYLOAD),
    /** The VMM's patch table (time instructions rewritten as INT n). At most once. */
    PATCHES(0x0050, Multiplicity.AT_MOST_ONCE, Format.MAX_COMPONENT_PAYLOAD);

    /** How many sections of a type a file holds. */
    enum Multiplicity {
        ONCE, AT_MOST_ONCE, PER_VCPU, PER_VCPU_OR_NONE;

        boolean perVcpu() {
            return this == PER_VCPU || this == PER_VCPU_OR_NONE;
        }
    }

    private final int id;
    private final Multiplicity multiplicity;
    private final long maxPayload;

    SectionType(int id, Multiplicity multiplicity, long maxPayload) {
        this.id = id;
        this.multiplicity = multiplicity;
        this.maxPayload = maxPayload;
    }

    /** The u16 on the wire. */
    public int id() {
        return id;
    }

    /** True for types with one section per vCPU, whose index is the vCPU id. */
    public boolean perVcpu() {
        return multiplicity.perVcpu();
    }

    long maxPayload() {
        return maxPayload;
    }

    /** The type with this id, or null for an id that format 1.0 does not define. */
    static SectionType byId(int id) {
        for (SectionType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** "RAM", "VCPU 2": how messages name a section. */
    String label(long index) {
        return perVcpu() ? name() + " " + index : name();
    }

    /** Why {@code index} is wrong for this type in a VM of {@code vcpuCount} vCPUs (0: not known yet), or null. */
    String indexProblem(long index, int vcpuCount) {
        if (!perVcpu()) {
            return index == 0 ? null : name() + " is not per vCPU, so its index must be 0, got " + index;
        }
        if (index < 0) {
            return "vCPU index " + index + " is negative";
        }
        if (vcpuCount > 0 && index >= vcpuCount) {
            return "vCPU index " + index + " is out of range: the header says " + vcpuCount + " vCPUs";
        }
        return null;
    }

    /** A section's identity: its type and index. */
    record Key(SectionType type, int index) {
    }

    /**
     * The first section that a file with these sections and {@code vcpuCount} vCPUs lacks,
     * described ("no VCPU section for vCPU 2 ..."), or null when nothing mandatory is missing.
     */
    static String firstMissing(Set<Key> present, int vcpuCount) {
        for (SectionType t : values()) {
            switch (t.multiplicity) {
                case ONCE -> {
                    if (!present.contains(new Key(t, 0))) {
                        return "no " + t + " section";
                    }
                }
                case AT_MOST_ONCE -> {
                }
                case PER_VCPU, PER_VCPU_OR_NONE -> {
                    boolean any = present.stream().anyMatch(k -> k.type() == t);
                    if (t.multiplicity == Multiplicity.PER_VCPU || any) {
                        for (int i = 0; i < vcpuCount; i++) {
                            if (!present.contains(new Key(t, i))) {
                                return "no " + t + " section for vCPU " + i + " (the header says " + vcpuCount
                                        + " vCPUs" + (any && t.multiplicity == Multiplicity.PER_VCPU_OR_NONE
                                                ? ", and " + t + " sections are for every vCPU or none)"
                                                : ")");
                            }
                        }
                    }
                }
            }
        }
        return null;
    }
}
