package dev.tickvm.cpu;

import dev.tickvm.unicorn.Float80;
import dev.tickvm.unicorn.SegmentDescriptorRegister;
import dev.tickvm.unicorn.Vector128;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.List;
import java.util.Objects;

/**
 * Everything a guest can observe of one vCPU, read register by register (never Unicorn's opaque
 * uc_context, whose layout changes between releases): a state saved under one Unicorn restores
 * under another. {@link Vcpu#saveState} makes one; {@link Vcpu#restore} builds a vCPU from one.
 *
 * <p>Not in here, because Unicorn cannot give it (see docs/ARCHITECTURE.md): the hidden parts
 * of CS, SS, DS and ES (their base, limit and attributes), CR8, and the pending-exception state
 * behind Unicorn bug 1883. Not in here, because other components own it: the guest TSC and the
 * time MSRs (the kvm layer), guest memory and the patch table (the machine).
 *
 * @param generalRegisters the 16 GPRs by encoding number: RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
 *                         R8..R15 ({@link dev.tickvm.unicorn.X86Register#GPR_BY_NUMBER})
 * @param rip              where the vCPU resumes (past a HLT it halted on)
 * @param msrs             the MSRs of {@link #MSRS}, in that order
 * @param runState         whether the scheduler may run it
 */
public record VcpuState(List<Long> generalRegisters, long rip, long rflags, Segments segments,
        ControlRegisters control, DebugRegisters debug, DescriptorTables tables, List<MsrValue> msrs, X87State x87,
        SseState sse, VcpuRunState runState) {

    /**
     * The MSRs saved, ascending: the ones Unicorn's CPU keeps and uses when it runs code
     * (SYSCALL/SYSRET, SYSENTER, SWAPGS, long mode and NX, the page attribute table). Guest
     * RDMSR/WRMSR never reach them (they trap to the kvm layer), so only the VMM changes them.
     * A state holds exactly these: a hostile index never reaches Unicorn's WRMSR.
     */
    public static final List<Integer> MSRS = List.of(
            0x174,      // IA32_SYSENTER_CS
            0x175,      // IA32_SYSENTER_ESP
            0x176,      // IA32_SYSENTER_EIP
            0x277,      // IA32_PAT
            0xc0000080, // IA32_EFER
            0xc0000081, // STAR
            0xc0000082, // LSTAR
            0xc0000083, // CSTAR
            0xc0000084, // SFMASK
            0xc0000102); // KERNEL_GS_BASE, which SWAPGS exchanges with GS_BASE

    public VcpuState {
        generalRegisters = List.copyOf(generalRegisters);
        if (generalRegisters.size() != 16) {
            throw new IllegalArgumentException("16 general registers expected, got " + generalRegisters.size());
        }
        Objects.requireNonNull(segments, "segments");
        Objects.requireNonNull(control, "control");
        Objects.requireNonNull(debug, "debug");
        Objects.requireNonNull(tables, "tables");
        msrs = List.copyOf(msrs);
        if (!msrs.stream().map(MsrValue::index).toList().equals(MSRS)) {
            throw new IllegalArgumentException("the MSRs of a vCPU state are " + hex(MSRS) + " in that order, not "
                    + hex(msrs.stream().map(MsrValue::index).toList()));
        }
        Objects.requireNonNull(x87, "x87");
        Objects.requireNonNull(sse, "sse");
        Objects.requireNonNull(runState, "runState");
    }

    /** General register number {@code n} (0 = RAX ... 15 = R15). */
    public long gpr(int n) {
        return generalRegisters.get(n);
    }

    /** The saved value of MSR {@code index}. */
    public long msr(int index) {
        return msrs.stream().filter(m -> m.index() == index).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(String.format("MSR 0x%x is not saved", index)))
                .value();
    }

    /** Writes the compact encoding ({@link VcpuStateFormat}: a version byte, then big-endian fields). */
    public void writeTo(DataOutput out) throws IOException {
        VcpuStateFormat.write(this, out);
    }

    /**
     * Reads what {@link #writeTo} wrote, validating every length, tag and index before building
     * anything.
     *
     * @throws VcpuStateFormatException if the bytes are truncated, from another format version,
     *                                  or hold a value no vCPU state can have
     */
    public static VcpuState readFrom(DataInput in) throws IOException {
        return VcpuStateFormat.read(in);
    }

    /**
     * Segment selectors (16 bits each) and the two segment bases 64-bit code uses. The other
     * hidden parts are not here: Unicorn exposes none of them.
     */
    public record Segments(int cs, int ss, int ds, int es, int fs, int gs, long fsBase, long gsBase) {
        public Segments {
            for (int selector : new int[] {cs, ss, ds, es, fs, gs}) {
                requireBits(selector, 16, "segment selector");
            }
        }

        /** The privilege level the vCPU runs at: CS.RPL is the CPL in protected mode. */
        public int cpl() {
            return cs & 3;
        }
    }

    /** CR0, CR2 (the last page-fault address), CR3 and CR4. */
    public record ControlRegisters(long cr0, long cr2, long cr3, long cr4) {
    }

    /** DR0-DR3 (breakpoint addresses), DR6 (status) and DR7 (control). */
    public record DebugRegisters(long dr0, long dr1, long dr2, long dr3, long dr6, long dr7) {
    }

    /** GDTR and IDTR (base and limit), LDTR and TR (with their hidden descriptors). */
    public record DescriptorTables(SegmentDescriptorRegister gdtr, SegmentDescriptorRegister idtr,
            SegmentDescriptorRegister ldtr, SegmentDescriptorRegister tr) {
        public DescriptorTables {
            Objects.requireNonNull(gdtr, "gdtr");
            Objects.requireNonNull(idtr, "idtr");
            Objects.requireNonNull(ldtr, "ldtr");
            Objects.requireNonNull(tr, "tr");
            requireBits(gdtr.limit(), 16, "GDTR limit");
            requireBits(idtr.limit(), 16, "IDTR limit");
        }
    }

    /** One model-specific register. */
    public record MsrValue(int index, long value) {
    }

    /**
     * The x87 FPU, as FSTENV/FSAVE would store it.
     *
     * @param control         FPCW
     * @param status          FPSW, TOP in bits 11-13
     * @param tag             the full tag word (2 bits per physical register); Unicorn keeps only
     *                        empty / not empty and derives the rest from the register contents
     * @param lastOpcode      FOP
     * @param registers       physical registers R0..R7, as the tag word numbers them; ST(i) is
     *                        R((TOP + i) mod 8), so this order does not depend on TOP
     */
    public record X87State(int control, int status, int tag, int lastOpcode, long lastInstruction,
            int lastInstructionSelector, long lastOperand, int lastOperandSelector, List<Float80> registers) {
        public X87State {
            requireBits(control, 16, "FPCW");
            requireBits(status, 16, "FPSW");
            requireBits(tag, 16, "FPTAG");
            requireBits(lastOpcode, 16, "FOP");
            requireBits(lastInstructionSelector, 16, "FCS");
            requireBits(lastOperandSelector, 16, "FDS");
            registers = List.copyOf(registers);
            if (registers.size() != 8) {
                throw new IllegalArgumentException("8 x87 registers expected, got " + registers.size());
            }
        }

        /** ST(i), the register i places below the top of the stack. */
        public Float80 st(int i) {
            int top = status >>> 11 & 7;
            return registers.get((top + i) & 7);
        }
    }

    /** MXCSR and XMM0-XMM15. Unicorn emulates no AVX, so there is no upper YMM half to keep. */
    public record SseState(int mxcsr, List<Vector128> xmm) {
        public SseState {
            xmm = List.copyOf(xmm);
            if (xmm.size() != 16) {
                throw new IllegalArgumentException("16 XMM registers expected, got " + xmm.size());
            }
        }
    }

    private static String hex(List<Integer> indices) {
        return indices.stream().map(i -> String.format("0x%x", i)).toList().toString();
    }

    private static void requireBits(int value, int bits, String what) {
        if ((value & -(1 << bits)) != 0) {
            throw new IllegalArgumentException(String.format("%s 0x%x does not fit %d bits", what, value, bits));
        }
    }
}
