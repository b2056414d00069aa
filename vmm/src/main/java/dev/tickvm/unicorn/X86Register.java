package dev.tickvm.unicorn;

/** The x86 registers tickvm uses, with Unicorn's uc_x86_reg ids (same in 2.0.1 and 2.1.x). */
public enum X86Register {
    RAX(35), RBX(37), RCX(38), RDX(40), RSI(43), RDI(39), RBP(36), RSP(44),
    R8(106), R9(107), R10(108), R11(109), R12(110), R13(111), R14(112), R15(113),
    RIP(41), RFLAGS(253),
    /** Segment selectors: Unicorn writes only 2 bytes of these on read. */
    CS(11), SS(49), DS(17), ES(28), FS(32), GS(33),
    CR0(50), CR3(53), CR4(54);

    final int id;

    X86Register(int id) {
        this.id = id;
    }

    /** The general-purpose registers in encoding order (ModRM/REX number 0..15). */
    public static final X86Register[] GPR_BY_NUMBER = {
        RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15
    };
}
