package dev.tickvm.cpu;

import static dev.tickvm.unicorn.X86Register.CR0;
import static dev.tickvm.unicorn.X86Register.CR2;
import static dev.tickvm.unicorn.X86Register.CR3;
import static dev.tickvm.unicorn.X86Register.CR4;
import static dev.tickvm.unicorn.X86Register.CS;
import static dev.tickvm.unicorn.X86Register.DR0;
import static dev.tickvm.unicorn.X86Register.DR1;
import static dev.tickvm.unicorn.X86Register.DR2;
import static dev.tickvm.unicorn.X86Register.DR3;
import static dev.tickvm.unicorn.X86Register.DR6;
import static dev.tickvm.unicorn.X86Register.DR7;
import static dev.tickvm.unicorn.X86Register.DS;
import static dev.tickvm.unicorn.X86Register.ES;
import static dev.tickvm.unicorn.X86Register.FCS;
import static dev.tickvm.unicorn.X86Register.FDP;
import static dev.tickvm.unicorn.X86Register.FDS;
import static dev.tickvm.unicorn.X86Register.FIP;
import static dev.tickvm.unicorn.X86Register.FOP;
import static dev.tickvm.unicorn.X86Register.FPCW;
import static dev.tickvm.unicorn.X86Register.FPSW;
import static dev.tickvm.unicorn.X86Register.FPTAG;
import static dev.tickvm.unicorn.X86Register.FS;
import static dev.tickvm.unicorn.X86Register.FS_BASE;
import static dev.tickvm.unicorn.X86Register.GS;
import static dev.tickvm.unicorn.X86Register.GS_BASE;
import static dev.tickvm.unicorn.X86Register.MXCSR;
import static dev.tickvm.unicorn.X86Register.RFLAGS;
import static dev.tickvm.unicorn.X86Register.RIP;
import static dev.tickvm.unicorn.X86Register.RSP;
import static dev.tickvm.unicorn.X86Register.SS;

import dev.tickvm.memory.GuestMemory;
import dev.tickvm.unicorn.DescriptorRegister;
import dev.tickvm.unicorn.Engine;
import dev.tickvm.unicorn.UnicornError;
import dev.tickvm.unicorn.X86Register;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Moves a {@link VcpuState} out of an engine and into a fresh one, register by register.
 *
 * <h2>Why a restore at CPL3 goes through IRETQ</h2>
 * Unicorn cannot set the CPL: in 64-bit mode, writing CS or SS stores the selector and nothing
 * else (no hidden part is loaded, the CPL stays 0), and DS and ES likewise. So a vCPU that ran
 * its guest re-enters user mode the way it first did: the boot stub's IRETQ pops the saved RIP,
 * CS, RFLAGS, RSP and SS, loading CS and SS from the guest's GDT and the CPL with them. The stub
 * and the frame slot are borrowed from guest memory and given back byte for byte afterwards.
 * DS and ES are written after the IRETQ, which would otherwise null them (their hidden parts,
 * never loaded, say DPL 0); FS and GS are written after it as well, and Unicorn loads those two
 * from the GDT, base included, so FS_BASE and GS_BASE come last.
 */
final class RegisterFile {
    private static final X86Register[] DEBUG = {DR0, DR1, DR2, DR3, DR6, DR7};

    private RegisterFile() {
    }

    /** The engine's registers, with the vCPU's own idea of RIP (see {@link Vcpu#saveState}). */
    static VcpuState save(Engine e, long rip, VcpuRunState runState) {
        List<Long> gprs = IntStream.range(0, 16).mapToObj(n -> e.read(X86Register.GPR_BY_NUMBER[n])).toList();
        var segments = new VcpuState.Segments(selector(e, CS), selector(e, SS), selector(e, DS), selector(e, ES),
                selector(e, FS), selector(e, GS), e.read(FS_BASE), e.read(GS_BASE));
        var control = new VcpuState.ControlRegisters(e.read(CR0), e.read(CR2), e.read(CR3), e.read(CR4));
        var debug = new VcpuState.DebugRegisters(e.read(DR0), e.read(DR1), e.read(DR2), e.read(DR3), e.read(DR6),
                e.read(DR7));
        var tables = new VcpuState.DescriptorTables(e.read(DescriptorRegister.GDTR), e.read(DescriptorRegister.IDTR),
                e.read(DescriptorRegister.LDTR), e.read(DescriptorRegister.TR));
        List<VcpuState.MsrValue> msrs = VcpuState.MSRS.stream()
                .map(index -> new VcpuState.MsrValue(index, e.readMsr(index))).toList();
        var x87 = new VcpuState.X87State((int) e.read(FPCW), (int) e.read(FPSW), (int) e.read(FPTAG), (int) e.read(FOP),
                e.read(FIP), (int) e.read(FCS), e.read(FDP), (int) e.read(FDS),
                IntStream.range(0, 8).mapToObj(e::readX87).toList());
        var sse = new VcpuState.SseState((int) e.read(MXCSR), IntStream.range(0, 16).mapToObj(e::readXmm).toList());
        return new VcpuState(gprs, rip, e.read(RFLAGS), segments, control, debug, tables, msrs, x87, sse, runState);
    }

    private static int selector(Engine e, X86Register register) {
        return (int) e.read(register);
    }

    /**
     * Loads {@code s} into a fresh engine that has guest memory mapped and no hooks yet, and
     * returns where the vCPU resumes.
     *
     * @throws IllegalArgumentException if the engine cannot enter the saved user-mode state
     */
    static long load(Engine e, GuestMemory memory, int id, VcpuState s) {
        // CR4 before CR0: a CR0 write looks at CR4 (PAE) when paging changes.
        VcpuState.ControlRegisters cr = s.control();
        e.write(CR4, cr.cr4());
        e.write(CR3, cr.cr3());
        e.write(CR0, cr.cr0());
        e.write(CR2, cr.cr2());
        for (VcpuState.MsrValue msr : s.msrs()) {
            e.writeMsr(msr.index(), msr.value());
        }
        VcpuState.DescriptorTables t = s.tables();
        e.write(DescriptorRegister.GDTR, t.gdtr());
        e.write(DescriptorRegister.IDTR, t.idtr());
        e.write(DescriptorRegister.LDTR, t.ldtr());
        e.write(DescriptorRegister.TR, t.tr());
        VcpuState.DebugRegisters dr = s.debug();
        long[] debug = {dr.dr0(), dr.dr1(), dr.dr2(), dr.dr3(), dr.dr6(), dr.dr7()};
        for (int i = 0; i < DEBUG.length; i++) {
            e.write(DEBUG[i], debug[i]);
        }
        // FPSW carries TOP; the tag word then marks the physical registers empty or not.
        VcpuState.X87State x87 = s.x87();
        e.write(FPCW, x87.control());
        e.write(FPSW, x87.status());
        for (int i = 0; i < 8; i++) {
            e.writeX87(i, x87.registers().get(i));
        }
        e.write(FPTAG, x87.tag());
        e.write(FIP, x87.lastInstruction());
        e.write(FCS, x87.lastInstructionSelector());
        e.write(FDP, x87.lastOperand());
        e.write(FDS, x87.lastOperandSelector());
        e.write(FOP, x87.lastOpcode());
        e.write(MXCSR, s.sse().mxcsr() & 0xffff_ffffL);
        for (int i = 0; i < 16; i++) {
            e.writeXmm(i, s.sse().xmm().get(i));
        }
        for (int n = 0; n < 16; n++) {
            e.write(X86Register.GPR_BY_NUMBER[n], s.gpr(n));
        }
        VcpuState.Segments seg = s.segments();
        if (seg.cpl() == 0) {
            // Saved before its first turn, at the CPL0 boot stub: the registers say it all.
            checkBootState(memory, id, s);
            e.write(CS, seg.cs());
            e.write(SS, seg.ss());
            e.write(RFLAGS, s.rflags());
            e.write(RIP, s.rip());
        } else {
            enterUserMode(e, memory, id, s);
        }
        e.write(DS, seg.ds());
        e.write(ES, seg.es());
        e.write(FS, seg.fs());
        e.write(GS, seg.gs());
        e.write(FS_BASE, seg.fsBase());
        e.write(GS_BASE, seg.gsBase());
        return s.rip();
    }

    /**
     * A CPL0 state is a vCPU that has not run yet: at the boot stub, RSP at its own frame slot,
     * whose frame enters CPL3. Anything else would run guest code at CPL0 (writing CS does not
     * change the CPL), so a state or RAM that says otherwise (a forged snapshot) is refused.
     */
    private static void checkBootState(GuestMemory memory, int id, VcpuState s) {
        long frame = BootLayout.frameAddress(id);
        long rsp = s.gpr(4);
        if (s.rip() != BootLayout.BOOT_STUB || rsp != frame) {
            throw new IllegalArgumentException(String.format("vCPU %d: a state at CPL0 must be at the boot stub 0x%x"
                    + " with RSP 0x%x (a vCPU that has not run yet), not RIP 0x%x RSP 0x%x", id,
                    BootLayout.BOOT_STUB, frame, s.rip(), rsp));
        }
        long cs = memory.readLong(frame + 8);
        long ss = memory.readLong(frame + 32);
        if ((cs & 3) != 3 || (ss & 3) != 3) {
            throw new IllegalArgumentException(String.format(
                    "vCPU %d: its boot frame at 0x%x enters CS 0x%x SS 0x%x, not user mode", id, frame, cs, ss));
        }
    }

    /** Runs the boot stub's IRETQ into the saved user-mode RIP, CS, RFLAGS, RSP and SS. */
    private static void enterUserMode(Engine e, GuestMemory memory, int id, VcpuState s) {
        VcpuState.Segments seg = s.segments();
        if (s.rip() == BootLayout.BOOT_STUB) {
            // Unicorn would stop before the IRETQ: "until" is where it starts.
            throw new IllegalArgumentException(String.format(
                    "a user-mode vCPU state cannot resume at 0x%x, the boot stub's own address", s.rip()));
        }
        long frame = BootLayout.frameAddress(id);
        byte[] stub = memory.read(BootLayout.BOOT_STUB, BootLayout.STUB.length);
        byte[] slot = memory.read(frame, BootLayout.IRET_FRAME_LENGTH);
        try {
            BootLayout.writeStub(memory);
            e.write(RSP, BootLayout.writeIretFrame(memory, id, s.rip(), seg.cs(), s.rflags(), s.gpr(4), seg.ss()));
            // A real "until" costs microseconds per start: fine once, at restore, and it stops
            // right after the IRETQ, before anything at RIP runs.
            UnicornError error = e.start(BootLayout.BOOT_STUB, s.rip());
            long at = e.read(RIP);
            if (error != UnicornError.OK || at != s.rip()) {
                throw new IllegalArgumentException(String.format(
                        "IRETQ to CS 0x%x SS 0x%x RIP 0x%x RFLAGS 0x%x did not enter the saved state: %s, RIP 0x%x",
                        seg.cs(), seg.ss(), s.rip(), s.rflags(), error.cName(), at));
            }
        } finally {
            memory.write(BootLayout.BOOT_STUB, stub);
            memory.write(frame, slot);
        }
    }

    /** The first part of {@code held} that differs from {@code wanted}, for an error message; null if none. */
    static String firstDifference(VcpuState wanted, VcpuState held) {
        record Part(String name, Object wanted, Object held) {
        }
        List<Part> parts = List.of(
                new Part("general registers", wanted.generalRegisters(), held.generalRegisters()),
                new Part("RIP", wanted.rip(), held.rip()),
                new Part("RFLAGS", wanted.rflags(), held.rflags()),
                new Part("segments", wanted.segments(), held.segments()),
                new Part("control registers", wanted.control(), held.control()),
                new Part("debug registers", wanted.debug(), held.debug()),
                new Part("descriptor tables", wanted.tables(), held.tables()),
                new Part("MSRs", wanted.msrs(), held.msrs()),
                new Part("x87", wanted.x87(), held.x87()),
                new Part("SSE", wanted.sse(), held.sse()));
        for (Part p : parts) {
            if (!p.wanted.equals(p.held)) {
                return p.name + ": saved " + p.wanted + ", the engine holds " + p.held;
            }
        }
        return null;
    }
}
