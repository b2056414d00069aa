package dev.tickvm.unicorn;

/**
 * The x86 registers tickvm moves as one integer, with Unicorn's uc_x86_reg ids (the same in 2.0.1,
 * 2.1.1 and 2.1.4: the enum in unicorn/x86.h did not change between them). Registers narrower
 * than 64 bits read zero-extended; a write uses the low bits.
 *
 * <p>Registers with a layout of their own (x87 stack registers, XMM, MSRs, GDTR/IDTR/LDTR/TR)
 * have typed methods on {@link Engine} instead.
 */
public enum X86Register {
    RAX(35), RBX(37), RCX(38), RDX(40), RSI(43), RDI(39), RBP(36), RSP(44),
    R8(106), R9(107), R10(108), R11(109), R12(110), R13(111), R14(112), R15(113),
    RIP(41), RFLAGS(253),
    /** Segment selectors (16 bits): the hidden base, limit and attributes are not exposed. */
    CS(11), SS(49), DS(17), ES(28), FS(32), GS(33),
    /** The hidden bases of FS and GS, which 64-bit code uses (also IA32_FS_BASE/IA32_GS_BASE). */
    FS_BASE(250), GS_BASE(251),
    /** CR8 (id 58) is absent: in 64-bit mode Unicorn 2.1.x rejects it and 2.0.1 ignores it. */
    CR0(50), CR2(52), CR3(53), CR4(54),
    /** DR4 and DR5 are aliases of DR6 and DR7. */
    DR0(66), DR1(67), DR2(68), DR3(69), DR6(72), DR7(73),
    /** x87 control, status (TOP in bits 11-13) and tag word (16 bits each), as FSTENV stores them. */
    FPCW(246), FPSW(31), FPTAG(247),
    /** x87 last instruction and operand pointers and last opcode (FCS, FDS, FOP are 16 bits). */
    FIP(254), FCS(255), FDP(256), FDS(257), FOP(258),
    MXCSR(249);

    final int id;

    X86Register(int id) {
        this.id = id;
    }

    /** The general-purpose registers in encoding order (ModRM/REX number 0..15). */
    public static final X86Register[] GPR_BY_NUMBER = {
        RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15
    };
}
