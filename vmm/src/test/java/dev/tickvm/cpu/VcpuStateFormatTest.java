package dev.tickvm.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tickvm.unicorn.Float80;
import dev.tickvm.unicorn.SegmentDescriptorRegister;
import dev.tickvm.unicorn.Vector128;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The byte encoding of a vCPU state: exact layout, round trips, and what it refuses. */
class VcpuStateFormatTest {
    /** Bytes of a state that is not faulted: fixed by the format, no length fields but the MSR count. */
    private static final int SIZE = 816;
    private static final int MSR_COUNT_OFFSET = 325;
    private static final int RUN_STATE_OFFSET = SIZE - 1;

    /** Every field different, so that a field written in the wrong place cannot go unseen. */
    static VcpuState sample(VcpuRunState runState) {
        return new VcpuState(
                IntStream.range(0, 16).mapToObj(n -> 0x0101_0101_0101_0101L * n + 0x1000).toList(),
                0x0010_0126L, 0x3246L,
                new VcpuState.Segments(0x23, 0x1b, 0x2b, 0x33, 0x3b, 0x43, 0x7f00_0000_1000L,
                        0xffff_8000_0000_2000L),
                new VcpuState.ControlRegisters(0x8005_0033L, 0xdead_b000L, 0x0010_3000L, 0x1_0604L),
                new VcpuState.DebugRegisters(0x1000, 0x2000, 0x3000, 0x4000, 0xffff_0ff0L, 0x400L),
                new VcpuState.DescriptorTables(SegmentDescriptorRegister.table(0x1000, 39),
                        SegmentDescriptorRegister.table(0xffff_fe00_0000_0000L, 0xfff),
                        new SegmentDescriptorRegister(0x28, 0x12_3456_789aL, 0xfff, 0x8200),
                        new SegmentDescriptorRegister(0x30, 0xab_cdef_0123L, 0x67, 0x8b00)),
                VcpuState.MSRS.stream().map(i -> new VcpuState.MsrValue(i, 0x5a5a_0000_0000L | i & 0xffff)).toList(),
                new VcpuState.X87State(0x0b7f, 0x2820, 0x3fbf, 0x7ff, 0x0010_0042L, 0x23, 0x0030_0008L, 0x1b,
                        IntStream.range(0, 8).mapToObj(i -> new Float80(0x8000_0000_0000_0000L | i, 0x3fff + i))
                                .toList()),
                new VcpuState.SseState(0x7fa0,
                        IntStream.range(0, 16).mapToObj(i -> new Vector128(i * 0x11L, -i * 0x22L)).toList()),
                runState);
    }

    private static final VcpuExit.Fault FAULT = new VcpuExit.Fault(FaultKind.INVALID_OPCODE, 0x100001, 6,
            new byte[] {0x0f, 0x0b}, "naïve détail");

    static byte[] encode(VcpuState state) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        state.writeTo(new DataOutputStream(bytes));
        return bytes.toByteArray();
    }

    static VcpuState decode(byte[] bytes) throws IOException {
        return VcpuState.readFrom(new DataInputStream(new ByteArrayInputStream(bytes)));
    }

    private static String rejection(byte[] bytes) {
        return assertThrows(VcpuStateFormatException.class, () -> decode(bytes)).getMessage();
    }

    @Test
    void everyRunStateSurvivesARoundTrip() throws IOException {
        for (VcpuRunState run : List.of(VcpuRunState.RUNNABLE, VcpuRunState.HALTED, VcpuRunState.WAKE_PENDING,
                new VcpuRunState.Faulted(FAULT))) {
            VcpuState state = sample(run);
            assertEquals(state, decode(encode(state)), run.toString());
        }
    }

    @Test
    void layoutIsVersionThenBigEndianFieldsInOrder() throws IOException {
        byte[] b = encode(sample(VcpuRunState.HALTED));
        assertEquals(SIZE, b.length);
        ByteBuffer in = ByteBuffer.wrap(b); // big-endian, as DataOutput
        assertEquals(1, in.get()); // version
        assertEquals(0x1000L, in.getLong()); // RAX
        assertEquals(0x0101_0101_0101_1101L, in.getLong()); // RCX
        assertEquals(0x0010_0126L, in.getLong(1 + 16 * 8)); // RIP after the 16 GPRs
        assertEquals((short) 0x23, in.getShort(1 + 18 * 8)); // CS
        assertEquals(VcpuState.MSRS.size(), in.getShort(MSR_COUNT_OFFSET));
        assertEquals(0x174, in.getInt(MSR_COUNT_OFFSET + 2)); // the first MSR, SYSENTER_CS
        assertEquals(0x7fa0, in.getInt(SIZE - 1 - 16 * 16 - 4)); // MXCSR, before the 16 XMMs
        assertEquals(1, b[RUN_STATE_OFFSET]); // halted
        byte[] faulted = encode(sample(new VcpuRunState.Faulted(FAULT)));
        assertEquals("03" + "00" + "0000000000100001" + "00000006" + "02" + "0f0b" + "000e" + "6e61c3af7665",
                HexFormat.of().formatHex(faulted, RUN_STATE_OFFSET, RUN_STATE_OFFSET + 25));
    }

    @Test
    void truncatedEncodingIsRejectedNamingWhereItEnded() throws IOException {
        byte[] whole = encode(sample(new VcpuRunState.Faulted(FAULT)));
        for (int length = 0; length < whole.length; length++) {
            byte[] prefix = Arrays.copyOf(whole, length);
            VcpuStateFormatException e = assertThrows(VcpuStateFormatException.class, () -> decode(prefix),
                    "at length " + length);
            assertInstanceOf(EOFException.class, e.getCause(), "at length " + length);
        }
        assertEquals("vCPU state: truncated in the version", rejection(new byte[0]));
        assertEquals("vCPU state: truncated in the general registers", rejection(Arrays.copyOf(whole, 100)));
        assertEquals("vCPU state: truncated in the x87 state", rejection(Arrays.copyOf(whole, 500)));
        assertEquals("vCPU state: truncated in the run state", rejection(Arrays.copyOf(whole, SIZE + 3)));
    }

    @Test
    void anotherVersionIsRejected() throws IOException {
        byte[] b = encode(sample(VcpuRunState.RUNNABLE));
        b[0] = 2;
        assertEquals("vCPU state: version 2 is not supported (this tickvm reads version 1)", rejection(b));
    }

    @Test
    void hostileCountsTagsAndIndicesAreRejectedBeforeAnythingIsBuilt() throws IOException {
        byte[] good = encode(sample(VcpuRunState.RUNNABLE));

        byte[] count = good.clone();
        ByteBuffer.wrap(count).putShort(MSR_COUNT_OFFSET, (short) 0xffff);
        assertEquals("vCPU state: 65535 MSRs, where version 1 has 10", rejection(count));

        byte[] index = good.clone();
        ByteBuffer.wrap(index).putInt(MSR_COUNT_OFFSET + 2, 0x1b); // IA32_APIC_BASE: not a vCPU state MSR
        assertEquals("vCPU state: MSR #0 is 0x1b, where version 1 has 0x174", rejection(index));

        byte[] tag = good.clone();
        tag[RUN_STATE_OFFSET] = 9;
        assertEquals("vCPU state: run state 9 does not exist", rejection(tag));

        byte[] faulted = encode(sample(new VcpuRunState.Faulted(FAULT)));
        byte[] kind = faulted.clone();
        kind[RUN_STATE_OFFSET + 1] = 8;
        assertEquals("vCPU state: fault kind 8 does not exist", rejection(kind));

        byte[] vector = faulted.clone();
        ByteBuffer.wrap(vector).putInt(RUN_STATE_OFFSET + 10, 256);
        assertEquals("vCPU state: fault vector 256 is not -1 or 0-255", rejection(vector));

        byte[] length = faulted.clone();
        length[RUN_STATE_OFFSET + 14] = (byte) 200;
        assertEquals("vCPU state: 200 fault instruction bytes, more than the 15 an instruction can have",
                rejection(length));
    }

    @Test
    void statesThatNoVcpuCanHaveAreRefusedByTheRecords() {
        VcpuState s = sample(VcpuRunState.RUNNABLE);
        assertEquals("segment selector 0x10000 does not fit 16 bits", assertThrows(IllegalArgumentException.class,
                () -> new VcpuState.Segments(0x1_0000, 0, 0, 0, 0, 0, 0, 0)).getMessage());
        assertEquals("16 general registers expected, got 15", assertThrows(IllegalArgumentException.class,
                () -> new VcpuState(s.generalRegisters().subList(0, 15), 0, 0, s.segments(), s.control(), s.debug(),
                        s.tables(), s.msrs(), s.x87(), s.sse(), s.runState())).getMessage());
        assertEquals("GDTR limit 0x10000 does not fit 16 bits", assertThrows(IllegalArgumentException.class,
                () -> new VcpuState.DescriptorTables(SegmentDescriptorRegister.table(0, 0x1_0000), s.tables().idtr(),
                        s.tables().ldtr(), s.tables().tr())).getMessage());
        assertEquals("sign and exponent 0x10000 do not fit 16 bits", assertThrows(IllegalArgumentException.class,
                () -> new Float80(0, 0x1_0000)).getMessage());
    }

    @Test
    void stIsCountedFromTopOverThePhysicalRegisters() {
        VcpuState.X87State x87 = sample(VcpuRunState.RUNNABLE).x87(); // FPSW 0x2820: TOP 5
        assertEquals(x87.registers().get(5), x87.st(0));
        assertEquals(x87.registers().get(7), x87.st(2));
        assertEquals(x87.registers().get(0), x87.st(3));
    }

    @Test
    void aFaultComparesByValueAndKeepsItsBytesToItself() {
        byte[] bytes = {0x0f, 0x0b};
        VcpuExit.Fault fault = new VcpuExit.Fault(FaultKind.INVALID_OPCODE, 0x100001, 6, bytes, "naïve détail");
        bytes[0] = 0;
        assertEquals(FAULT, fault);
        assertEquals(FAULT.hashCode(), fault.hashCode());
        fault.bytes()[1] = 0;
        assertArrayEquals(new byte[] {0x0f, 0x0b}, fault.bytes());
    }
}
