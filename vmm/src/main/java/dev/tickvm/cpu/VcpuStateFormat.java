package dev.tickvm.cpu;

import dev.tickvm.unicorn.Float80;
import dev.tickvm.unicorn.SegmentDescriptorRegister;
import dev.tickvm.unicorn.Vector128;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.EOFException;
import java.io.IOException;
import java.io.UTFDataFormatException;
import java.util.ArrayList;
import java.util.List;

/**
 * The byte encoding of a {@link VcpuState}, version 1. Big-endian throughout (DataOutput's order),
 * fixed widths, no padding; u16 and u32 fields hold their values unsigned.
 *
 * <pre>
 * u8    version = 1
 * u64   x16  general registers by encoding number (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15)
 * u64        RIP
 * u64        RFLAGS
 * u16   x6   selectors CS, SS, DS, ES, FS, GS
 * u64   x2   FS_BASE, GS_BASE
 * u64   x4   CR0, CR2, CR3, CR4
 * u64   x6   DR0, DR1, DR2, DR3, DR6, DR7
 * x4         GDTR, IDTR, LDTR, TR, each: u16 selector, u64 base, u32 limit, u32 flags
 * u16        MSR count (10 in version 1), then per MSR: u32 index, u64 value (VcpuState.MSRS, in order)
 * u16   x4   FPCW, FPSW, FPTAG, FOP
 * u64, u16   FIP, FCS
 * u64, u16   FDP, FDS
 * x8         R0..R7 (physical), each: u64 significand, u16 sign and exponent
 * u32        MXCSR
 * x16        XMM0..XMM15, each: u64 bits 0-63, u64 bits 64-127
 * u8         run state: 0 runnable, 1 halted, 2 wake pending, 3 faulted; when faulted:
 *              u8 kind (FAULT_KINDS index), u64 RIP, s32 vector (-1 = unknown, else 0-255),
 *              u8 length (0-15) and the instruction bytes, then the detail as DataOutput.writeUTF
 * </pre>
 *
 * The encoding has no length of its own: the snapshot section that carries it has one.
 */
final class VcpuStateFormat {
    static final int VERSION = 1;
    private static final int RUNNABLE = 0;
    private static final int HALTED = 1;
    private static final int WAKE_PENDING = 2;
    private static final int FAULTED = 3;
    /** Codes of the fault kinds: an index here, so that reordering the enum changes no encoding. */
    private static final List<FaultKind> FAULT_KINDS = List.of(FaultKind.INVALID_OPCODE, FaultKind.UNMAPPED_READ,
            FaultKind.UNMAPPED_WRITE, FaultKind.UNMAPPED_FETCH, FaultKind.PROTECTION, FaultKind.UNALIGNED,
            FaultKind.UNKNOWN_MSR, FaultKind.CPU_EXCEPTION);

    private VcpuStateFormat() {
    }

    static void write(VcpuState s, DataOutput out) throws IOException {
        out.writeByte(VERSION);
        for (long r : s.generalRegisters()) {
            out.writeLong(r);
        }
        out.writeLong(s.rip());
        out.writeLong(s.rflags());
        VcpuState.Segments seg = s.segments();
        for (int selector : new int[] {seg.cs(), seg.ss(), seg.ds(), seg.es(), seg.fs(), seg.gs()}) {
            out.writeShort(selector);
        }
        out.writeLong(seg.fsBase());
        out.writeLong(seg.gsBase());
        VcpuState.ControlRegisters cr = s.control();
        for (long r : new long[] {cr.cr0(), cr.cr2(), cr.cr3(), cr.cr4()}) {
            out.writeLong(r);
        }
        VcpuState.DebugRegisters dr = s.debug();
        for (long r : new long[] {dr.dr0(), dr.dr1(), dr.dr2(), dr.dr3(), dr.dr6(), dr.dr7()}) {
            out.writeLong(r);
        }
        VcpuState.DescriptorTables t = s.tables();
        for (SegmentDescriptorRegister d : List.of(t.gdtr(), t.idtr(), t.ldtr(), t.tr())) {
            out.writeShort(d.selector());
            out.writeLong(d.base());
            out.writeInt(d.limit());
            out.writeInt(d.flags());
        }
        out.writeShort(s.msrs().size());
        for (VcpuState.MsrValue msr : s.msrs()) {
            out.writeInt(msr.index());
            out.writeLong(msr.value());
        }
        VcpuState.X87State x87 = s.x87();
        out.writeShort(x87.control());
        out.writeShort(x87.status());
        out.writeShort(x87.tag());
        out.writeShort(x87.lastOpcode());
        out.writeLong(x87.lastInstruction());
        out.writeShort(x87.lastInstructionSelector());
        out.writeLong(x87.lastOperand());
        out.writeShort(x87.lastOperandSelector());
        for (Float80 r : x87.registers()) {
            out.writeLong(r.significand());
            out.writeShort(r.signExponent());
        }
        out.writeInt(s.sse().mxcsr());
        for (Vector128 x : s.sse().xmm()) {
            out.writeLong(x.low());
            out.writeLong(x.high());
        }
        switch (s.runState()) {
            case VcpuRunState.Runnable r -> out.writeByte(RUNNABLE);
            case VcpuRunState.Halted h -> out.writeByte(HALTED);
            case VcpuRunState.WakePending w -> out.writeByte(WAKE_PENDING);
            case VcpuRunState.Faulted f -> {
                out.writeByte(FAULTED);
                VcpuExit.Fault fault = f.fault();
                out.writeByte(FAULT_KINDS.indexOf(fault.kind()));
                out.writeLong(fault.rip());
                out.writeInt(fault.vector());
                byte[] bytes = fault.bytes();
                out.writeByte(bytes.length);
                out.write(bytes);
                out.writeUTF(fault.detail());
            }
        }
    }

    static VcpuState read(DataInput in) throws IOException {
        Reader r = new Reader(in);
        try {
            return read(r);
        } catch (EOFException e) {
            throw new VcpuStateFormatException("truncated in " + r.part, e);
        } catch (UTFDataFormatException e) {
            throw new VcpuStateFormatException("malformed text in " + r.part, e);
        } catch (IllegalArgumentException e) {
            // A record refused a value that fits its field but no vCPU state can hold.
            throw new VcpuStateFormatException(e.getMessage() + " (in " + r.part + ")", e);
        }
    }

    private static VcpuState read(Reader r) throws IOException {
        DataInput in = r.in;
        r.part = "the version";
        int version = in.readUnsignedByte();
        if (version != VERSION) {
            throw new VcpuStateFormatException("version " + version + " is not supported (this tickvm reads version "
                    + VERSION + ")");
        }
        r.part = "the general registers";
        List<Long> gprs = new ArrayList<>(16);
        for (int i = 0; i < 16; i++) {
            gprs.add(in.readLong());
        }
        r.part = "RIP and RFLAGS";
        long rip = in.readLong();
        long rflags = in.readLong();
        r.part = "the segment registers";
        int cs = in.readUnsignedShort();
        int ss = in.readUnsignedShort();
        int ds = in.readUnsignedShort();
        int es = in.readUnsignedShort();
        int fs = in.readUnsignedShort();
        int gs = in.readUnsignedShort();
        var segments = new VcpuState.Segments(cs, ss, ds, es, fs, gs, in.readLong(), in.readLong());
        r.part = "the control registers";
        var control = new VcpuState.ControlRegisters(in.readLong(), in.readLong(), in.readLong(), in.readLong());
        r.part = "the debug registers";
        var debug = new VcpuState.DebugRegisters(in.readLong(), in.readLong(), in.readLong(), in.readLong(),
                in.readLong(), in.readLong());
        r.part = "the descriptor-table registers";
        var tables = new VcpuState.DescriptorTables(descriptor(in), descriptor(in), descriptor(in), descriptor(in));
        r.part = "the MSRs";
        int count = in.readUnsignedShort();
        if (count != VcpuState.MSRS.size()) {
            // Checked before reading on: a hostile count must not drive the loop below.
            throw new VcpuStateFormatException(count + " MSRs, where version " + VERSION + " has "
                    + VcpuState.MSRS.size());
        }
        List<VcpuState.MsrValue> msrs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int index = in.readInt();
            int expected = VcpuState.MSRS.get(i);
            if (index != expected) {
                throw new VcpuStateFormatException(String.format("MSR #%d is 0x%x, where version %d has 0x%x", i,
                        index, VERSION, expected));
            }
            msrs.add(new VcpuState.MsrValue(index, in.readLong()));
        }
        r.part = "the x87 state";
        int fpcw = in.readUnsignedShort();
        int fpsw = in.readUnsignedShort();
        int fptag = in.readUnsignedShort();
        int fop = in.readUnsignedShort();
        long fip = in.readLong();
        int fcs = in.readUnsignedShort();
        long fdp = in.readLong();
        int fds = in.readUnsignedShort();
        List<Float80> st = new ArrayList<>(8);
        for (int i = 0; i < 8; i++) {
            st.add(new Float80(in.readLong(), in.readUnsignedShort()));
        }
        var x87 = new VcpuState.X87State(fpcw, fpsw, fptag, fop, fip, fcs, fdp, fds, st);
        r.part = "the SSE state";
        int mxcsr = in.readInt();
        List<Vector128> xmm = new ArrayList<>(16);
        for (int i = 0; i < 16; i++) {
            xmm.add(new Vector128(in.readLong(), in.readLong()));
        }
        var sse = new VcpuState.SseState(mxcsr, xmm);
        r.part = "the run state";
        int tag = in.readUnsignedByte();
        VcpuRunState runState = switch (tag) {
            case RUNNABLE -> VcpuRunState.RUNNABLE;
            case HALTED -> VcpuRunState.HALTED;
            case WAKE_PENDING -> VcpuRunState.WAKE_PENDING;
            case FAULTED -> new VcpuRunState.Faulted(fault(in));
            default -> throw new VcpuStateFormatException("run state " + tag + " does not exist");
        };
        return new VcpuState(gprs, rip, rflags, segments, control, debug, tables, msrs, x87, sse, runState);
    }

    private static SegmentDescriptorRegister descriptor(DataInput in) throws IOException {
        return new SegmentDescriptorRegister(in.readUnsignedShort(), in.readLong(), in.readInt(), in.readInt());
    }

    private static VcpuExit.Fault fault(DataInput in) throws IOException {
        int kind = in.readUnsignedByte();
        if (kind >= FAULT_KINDS.size()) {
            throw new VcpuStateFormatException("fault kind " + kind + " does not exist");
        }
        long rip = in.readLong();
        int vector = in.readInt();
        if (vector < -1 || vector > 255) {
            throw new VcpuStateFormatException("fault vector " + vector + " is not -1 or 0-255");
        }
        int length = in.readUnsignedByte();
        if (length > TrapDecoder.MAX_INSTRUCTION_LENGTH) {
            throw new VcpuStateFormatException(length + " fault instruction bytes, more than the "
                    + TrapDecoder.MAX_INSTRUCTION_LENGTH + " an instruction can have");
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return new VcpuExit.Fault(FAULT_KINDS.get(kind), rip, vector, bytes, in.readUTF());
    }

    /** The input and the part being read, for the message when the input ends too soon. */
    private static final class Reader {
        final DataInput in;
        String part = "";

        Reader(DataInput in) {
            this.in = in;
        }
    }
}
