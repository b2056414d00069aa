package dev.tickvm.unicorn;

/** The registers Unicorn moves as a uc_x86_mmr, with their uc_x86_reg ids. */
public enum DescriptorRegister {
    /** Base and limit only; Unicorn ignores the selector and flags of GDTR and IDTR. */
    GDTR(243),
    IDTR(242),
    /** Selector, base, limit and flags (the hidden descriptor), all read and written. */
    LDTR(244),
    TR(245);

    final int id;

    DescriptorRegister(int id) {
        this.id = id;
    }
}
