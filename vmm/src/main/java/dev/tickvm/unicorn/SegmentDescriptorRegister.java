package dev.tickvm.unicorn;

/**
 * One uc_x86_mmr: a descriptor-table register (GDTR, IDTR: base and limit) or a system segment
 * register with its hidden descriptor (LDTR, TR: also selector and flags).
 *
 * @param selector 16 bits; 0 for GDTR and IDTR
 * @param limit    GDTR and IDTR keep only the low 16 bits
 * @param flags    the descriptor's attribute bits as QEMU keeps them (high dword of the
 *                 descriptor, bits 8-23); 0 for GDTR and IDTR
 */
public record SegmentDescriptorRegister(int selector, long base, int limit, int flags) {
    public SegmentDescriptorRegister {
        if ((selector & ~0xffff) != 0) {
            throw new IllegalArgumentException(String.format("selector 0x%x does not fit 16 bits", selector));
        }
    }

    /** A GDTR or IDTR value. */
    public static SegmentDescriptorRegister table(long base, int limit) {
        return new SegmentDescriptorRegister(0, base, limit, 0);
    }
}
