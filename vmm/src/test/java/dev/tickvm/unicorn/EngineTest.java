package dev.tickvm.unicorn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tickvm.memory.GuestMemory;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The FFM binding on the loaded libunicorn, at CPL0 with guest RAM mapped at 0. Code ends by
 * jumping to address 0, where Unicorn stops cleanly because Engine.start passes 0 as "until".
 */
class EngineTest {
    private static final byte[] END = hex("31c0 ffe0"); // xor eax, eax; jmp rax (to 0)

    private Unicorn unicorn;
    private GuestMemory memory;
    private Engine engine;

    @BeforeEach
    void open() {
        unicorn = Unicorn.get();
        memory = new GuestMemory(GuestMemory.MIN_SIZE);
        engine = unicorn.openX86_64();
        engine.mapHostMemory(0, memory.segment());
    }

    @AfterEach
    void close() {
        engine.close();
        engine.close(); // closing twice is a no-op
        memory.close();
    }

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    @Test
    void engineBelongsToTheLibraryThatOpenedIt() {
        assertSame(unicorn, engine.unicorn());
        assertSame(unicorn, Unicorn.get());
    }

    @Test
    void generalPurposeRegistersAndRipReadBackWhatWasWritten() {
        engine.write(X86Register.RAX, 0x0123456789abcdefL);
        engine.write(X86Register.R15, 0xfedcba9876543210L);
        engine.write(X86Register.RIP, 0x100000);
        assertEquals(0x0123456789abcdefL, engine.read(X86Register.RAX));
        assertEquals(0xfedcba9876543210L, engine.read(X86Register.R15));
        assertEquals(0x100000L, engine.read(X86Register.RIP));
    }

    @Test
    void segmentSelectorReadIsClean16BitValueAfterA64BitRead() {
        engine.write(X86Register.RAX, -1L);
        assertEquals(-1L, engine.read(X86Register.RAX)); // leaves all ones in the scratch slot
        // Unicorn's 64-bit mode starts with null selectors; only 2 bytes are written on read.
        assertEquals(0L, engine.read(X86Register.CS));
        assertEquals(0L, engine.read(X86Register.SS));
    }

    @Test
    void registerBatchWritesAndReadsEveryRegisterInOrder() {
        RegisterBatch batch = engine.batch(X86Register.RAX, X86Register.R15, X86Register.RIP);
        batch.set(0, 0x1111222233334444L);
        batch.set(1, -2L);
        batch.set(2, 0x2000);
        batch.write();
        assertEquals(0x1111222233334444L, engine.read(X86Register.RAX));
        assertEquals(-2L, engine.read(X86Register.R15));
        assertEquals(0x2000L, engine.read(X86Register.RIP));

        engine.write(X86Register.R15, 0x77);
        RegisterBatch again = engine.batch(X86Register.RIP, X86Register.R15).read();
        assertEquals(0x2000L, again.get(0));
        assertEquals(0x77L, again.get(1));
        assertEquals(List.of(X86Register.RIP, X86Register.R15), again.registers());
    }

    @Test
    void engineAndGuestMemorySeeTheSameBytes() {
        memory.write(0x5000, hex("0102030405"));
        assertArrayEquals(hex("0102030405"), engine.readMemory(0x5000, 5));
        engine.writeMemory(0x6ffe, hex("aabbccdd"));
        assertEquals(0xddccbbaa, memory.readInt(0x6ffe));
        assertArrayEquals(new byte[0], engine.readMemory(0x5000, 0));
    }

    @Test
    void guestStoreLandsInTheMappedGuestMemory() {
        // mov dword [0x5000], 0xdeadbeef; mov qword [0x5008], r15; xor eax, eax; jmp rax
        memory.write(0x1000, hex("c7042500500000efbeadde 4c893c2508500000 31c0 ffe0"));
        engine.write(X86Register.R15, 0x0807060504030201L);
        assertEquals(UnicornError.OK, engine.start(0x1000));
        assertEquals(0xdeadbeef, memory.readInt(0x5000));
        assertEquals(0x0807060504030201L, memory.readLong(0x5008));
        assertEquals(0L, engine.read(X86Register.RIP));
    }

    @Test
    void mappingAtAnUnalignedAddressFailsWithUcErrArgAndUnicornsMessage() {
        UnicornException e = assertThrows(UnicornException.class,
                () -> engine.mapHostMemory(0x1001, memory.segment().asSlice(0, 4096)));
        assertEquals(UnicornError.ARG, e.error());
        assertEquals("uc_mem_map_ptr(0x1001, 4096) failed: UC_ERR_ARG (Invalid argument (UC_ERR_ARG))",
                e.getMessage());
    }

    @Test
    void mappingOverMappedMemoryFailsWithUcErrMap() {
        UnicornException e = assertThrows(UnicornException.class,
                () -> engine.mapHostMemory(0x3000, memory.segment().asSlice(0, 4096)));
        assertEquals(UnicornError.MAP, e.error());
        assertEquals("uc_mem_map_ptr(0x3000, 4096) failed: UC_ERR_MAP (Invalid memory mapping (UC_ERR_MAP))",
                e.getMessage());
    }

    @Test
    void readingUnmappedMemoryFailsWithUcErrReadUnmapped() {
        UnicornException e = assertThrows(UnicornException.class, () -> engine.readMemory(0x1000_0000L, 4));
        assertEquals(UnicornError.READ_UNMAPPED, e.error());
        assertEquals("uc_mem_read(0x10000000) failed: UC_ERR_READ_UNMAPPED (Invalid memory read (UC_ERR_READ_UNMAPPED))",
                e.getMessage());
    }

    @Test
    void portHooksSeePortSizeAndValueAndInReturnsTheHookValue() {
        // mov dx, 0x80; mov eax, 0x12345678; out dx, eax; in al, dx; mov ebx, eax; in ax, dx;
        // mov esi, eax; in eax, dx; mov edi, eax; xor eax, eax; jmp rax
        memory.write(0x1000, hex("66ba8000 b878563412 ef ec 89c3 66ed 89c6 ed 89c7 31c0 ffe0"));
        List<String> seen = new ArrayList<>();
        engine.onPortOut((port, size, value) -> seen.add(String.format("out 0x%x/%d 0x%x", port, size, value)));
        engine.onPortIn((port, size) -> {
            seen.add(String.format("in 0x%x/%d", port, size));
            return switch (size) {
                case 1 -> 0xab;
                case 2 -> 0xbeef;
                default -> 0xcafef00d;
            };
        });
        assertEquals(UnicornError.OK, engine.start(0x1000));
        assertEquals(List.of("out 0x80/4 0x12345678", "in 0x80/1", "in 0x80/2", "in 0x80/4"), seen);
        assertEquals(0x123456abL, engine.read(X86Register.RBX)); // IN AL replaces only AL
        assertEquals(0x1234beefL, engine.read(X86Register.RSI)); // IN AX replaces only AX
        assertEquals(0xcafef00dL, engine.read(X86Register.RDI)); // IN EAX zero-extends
    }

    @Test
    void blockHookSeesEveryTranslatedBlockWithItsAddressAndSize() {
        // 0x2000: mov ecx, 5; 0x2005: dec ecx; jnz 0x2005; 0x2009: xor eax, eax; jmp rax
        memory.write(0x2000, hex("b905000000 ffc9 75fc 31c0 ffe0"));
        List<String> blocks = new ArrayList<>();
        engine.onBlock((address, size) -> blocks.add(Long.toHexString(address) + "/" + size));
        assertEquals(UnicornError.OK, engine.start(0x2000));
        assertEquals(List.of("2000/9", "2005/4", "2005/4", "2005/4", "2005/4", "2009/4"), blocks);
    }

    @Test
    void stopFromBlockHookEndsBeforeThatBlockRuns() {
        // 0x4000: mov eax, 0x11; jmp 0x4007; 0x4007: mov eax, 0x22; inc eax; xor eax, eax; jmp rax
        memory.write(0x4000, hex("b811000000 eb00 b822000000 ffc0 31c0 ffe0"));
        List<Long> blocks = new ArrayList<>();
        engine.onBlock((address, size) -> {
            blocks.add(address);
            if (address == 0x4007) {
                engine.stop();
            }
        });
        assertEquals(UnicornError.OK, engine.start(0x4000));
        assertEquals(List.of(0x4000L, 0x4007L), blocks);
        assertEquals(0x4007L, engine.read(X86Register.RIP));
        assertEquals(0x11L, engine.read(X86Register.RAX));
    }

    @Test
    void exceptionInBlockHookStopsTheEngineAndStartRethrowsIt() {
        memory.write(0x1000, hex("ebfe")); // jmp $: would spin forever
        memory.write(0x1100, END);
        IllegalStateException boom = new IllegalStateException("third block");
        int[] calls = {0};
        boolean[] armed = {true};
        engine.onBlock((address, size) -> {
            calls[0]++;
            if (armed[0] && calls[0] == 3) {
                throw boom;
            }
        });
        UnicornException e = assertThrows(UnicornException.class, () -> engine.start(0x1000));
        assertSame(boom, e.getCause());
        assertEquals(UnicornError.UNKNOWN, e.error());
        assertEquals("a hook failed: java.lang.IllegalStateException: third block", e.getMessage());
        assertEquals(3, calls[0]);
        assertEquals(0x1000L, engine.read(X86Register.RIP));

        // The JVM and the engine carry on; the failure was reported once and cleared.
        armed[0] = false;
        calls[0] = 0;
        assertEquals(UnicornError.OK, engine.start(0x1100));
        assertEquals(1, calls[0]);
    }

    @Test
    void exceptionInPortOutHookStopsTheEngineAndStartRethrowsIt() {
        memory.write(0x1000, hex("ef ebfd")); // 1: out dx, eax; jmp 1b
        RuntimeException boom = new UnsupportedOperationException("no device");
        int[] calls = {0};
        engine.onPortOut((port, size, value) -> {
            calls[0]++;
            throw boom;
        });
        UnicornException e = assertThrows(UnicornException.class, () -> engine.start(0x1000));
        assertSame(boom, e.getCause());
        assertEquals(UnicornError.UNKNOWN, e.error());
        assertEquals(1, calls[0]);
    }

    @Test
    void invalidatingTranslationsMakesTheEngineRunRewrittenCode() {
        // mov eax, 1; xor ecx, ecx; jmp rcx
        memory.write(0x3000, hex("b801000000 31c9 ffe1"));
        assertEquals(UnicornError.OK, engine.start(0x3000));
        assertEquals(1L, engine.read(X86Register.RAX));
        memory.writeByte(0x3001, (byte) 2); // behind the engine's back: mov eax, 2
        engine.invalidateTranslations(0x3000, 0x3005);
        assertEquals(UnicornError.OK, engine.start(0x3000));
        assertEquals(2L, engine.read(X86Register.RAX));
        memory.writeByte(0x3001, (byte) 3);
        engine.flushTranslationCache();
        assertEquals(UnicornError.OK, engine.start(0x3000));
        assertEquals(3L, engine.read(X86Register.RAX));
    }

    @Test
    void registeringAHookTwiceIsRejectedAndTheFirstStaysInForce() {
        memory.write(0x2000, hex("90"));
        memory.write(0x2001, END);
        List<String> calls = new ArrayList<>();
        engine.onBlock((address, size) -> calls.add("first"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> engine.onBlock((address, size) -> calls.add("second")));
        assertEquals("this engine already has a block hook", e.getMessage());
        assertEquals(UnicornError.OK, engine.start(0x2000));
        assertEquals(List.of("first"), calls);
    }

    @Test
    void x87RegistersAreNumberedPhysicallyAndKeepAll80Bits() {
        // Unicorn starts with FPCW 0 and every register tagged valid (zero): FNINIT first.
        assertEquals(0x5555L, engine.read(X86Register.FPTAG));
        memory.write(0x1000, hex("dbe3 d9e8 31c0 ffe0")); // fninit; fld1; xor eax, eax; jmp rax
        assertEquals(UnicornError.OK, engine.start(0x1000));
        // FLD pushes: TOP goes from 0 to 7, and ST(0) is physical register R7.
        assertEquals(0x37fL, engine.read(X86Register.FPCW));
        assertEquals(7L, engine.read(X86Register.FPSW) >>> 11 & 7);
        assertEquals(new Float80(0x8000_0000_0000_0000L, 0x3fff), engine.readX87(7));
        assertEquals(0x3fffL, engine.read(X86Register.FPTAG)); // R7 valid (00), R0-R6 empty (11)

        // An unnormal with the sign set: no double could carry it.
        Float80 odd = new Float80(0x0000_0000_0000_0001L, 0xc00f);
        engine.writeX87(3, odd);
        assertEquals(odd, engine.readX87(3));
        // Unicorn keeps only "empty or not" per register and derives the rest from the value.
        engine.write(X86Register.FPTAG, 0x3f3f); // R3 and R7 not empty
        assertEquals(0x3fbfL, engine.read(X86Register.FPTAG)); // R3: special (10)
        assertThrows(IndexOutOfBoundsException.class, () -> engine.readX87(8));
    }

    @Test
    void xmmRegistersKeepAll128BitsAndSseRunsFromTheEnginesResetState() {
        for (int i = 0; i < 16; i++) {
            engine.writeXmm(i, new Vector128(0x0101_0101_0101_0101L * i, -1L - i));
        }
        for (int i = 0; i < 16; i++) {
            assertEquals(new Vector128(0x0101_0101_0101_0101L * i, -1L - i), engine.readXmm(i), "XMM" + i);
        }
        memory.write(0x1000, hex("660fd4c1 31c0 ffe0")); // paddq xmm0, xmm1; xor eax, eax; jmp rax
        assertEquals(UnicornError.OK, engine.start(0x1000));
        assertEquals(new Vector128(0x0101_0101_0101_0101L, -3L), engine.readXmm(0));
        engine.write(X86Register.MXCSR, 0x7f80);
        assertEquals(0x7f80L, engine.read(X86Register.MXCSR));
        assertThrows(IndexOutOfBoundsException.class, () -> engine.readXmm(16));
    }

    @Test
    void msrsUnicornKeepsReadBackTheOthersReadZero() {
        assertEquals(0x500L, engine.readMsr(0xc0000080)); // EFER: LME and LMA in UC_MODE_64
        engine.writeMsr(0xc0000082, 0xffff_8000_0000_1000L); // LSTAR
        assertEquals(0xffff_8000_0000_1000L, engine.readMsr(0xc0000082));
        engine.writeMsr(0xc0000102, 0x1234_5678_9abc_def0L); // KERNEL_GS_BASE
        assertEquals(0x1234_5678_9abc_def0L, engine.readMsr(0xc0000102));
        engine.writeMsr(0x174, 0x1_0000_0010L); // SYSENTER_CS is 32 bits wide here
        assertEquals(0x10L, engine.readMsr(0x174));
        engine.writeMsr(0x10, 12345); // IA32_TSC: dropped without an error, as every MSR the CPU lacks
        assertEquals(0L, engine.readMsr(0x10));
        assertEquals(0x1234_5678_9abc_def0L, engine.readMsr(0xc0000102));
    }

    @Test
    void descriptorRegistersMoveAsUcX86Mmr() {
        // GDTR and IDTR: base and a 16-bit limit; the selector and flags are not theirs.
        engine.write(DescriptorRegister.IDTR, new SegmentDescriptorRegister(0x30, 0xfedc_ba98_7654L, 0x12345, 0x8b00));
        assertEquals(SegmentDescriptorRegister.table(0xfedc_ba98_7654L, 0x2345), engine.read(DescriptorRegister.IDTR));
        engine.write(DescriptorRegister.GDTR, SegmentDescriptorRegister.table(0x1000, 39));
        assertEquals(SegmentDescriptorRegister.table(0x1000, 39), engine.read(DescriptorRegister.GDTR));
        // LDTR and TR: the whole hidden descriptor.
        SegmentDescriptorRegister ldt = new SegmentDescriptorRegister(0x28, 0x12_3456_789aL, 0xfff, 0x8200);
        SegmentDescriptorRegister tss = new SegmentDescriptorRegister(0x30, 0xab_cdef_0123L, 0x67, 0x8b00);
        engine.write(DescriptorRegister.LDTR, ldt);
        engine.write(DescriptorRegister.TR, tss);
        assertEquals(ldt, engine.read(DescriptorRegister.LDTR));
        assertEquals(tss, engine.read(DescriptorRegister.TR));
    }

    /**
     * What Unicorn does with a selector written in 64-bit mode: FS and GS are loaded from the GDT
     * (base included), CS, SS, DS and ES keep their hidden parts. That shows when IRETQ to CPL3
     * checks DS: its hidden DPL is still 0, so IRETQ nulls it.
     */
    @Test
    void selectorWritesLoadFsAndGsFromTheGdtButNotDs() {
        memory.writeLong(0x1018, 0x00CFF2000000FFFFL); // GDT 0x18: user data, DPL 3
        memory.writeLong(0x1020, 0x00AFFA000000FFFFL); // GDT 0x20: user code, 64-bit, DPL 3
        engine.write(DescriptorRegister.GDTR, SegmentDescriptorRegister.table(0x1000, 0x27));

        engine.write(X86Register.FS_BASE, 0x5555);
        engine.write(X86Register.FS, 0x1b);
        assertEquals(0x1bL, engine.read(X86Register.FS));
        assertEquals(0L, engine.read(X86Register.FS_BASE)); // the descriptor's base

        engine.write(X86Register.DS, 0x1b);
        engine.write(X86Register.CS, 0x23);
        assertEquals(0x23L, engine.read(X86Register.CS)); // written, yet the CPL is still 0:
        memory.write(0x2000, hex("48cf")); // iretq
        memory.write(0x4000, END);
        long[] frame = {0x4000, 0x23, 0x2, 0x8000, 0x1b}; // RIP, CS, RFLAGS, RSP, SS
        for (int i = 0; i < frame.length; i++) {
            memory.writeLong(0x3000 + 8L * i, frame[i]);
        }
        engine.write(X86Register.RSP, 0x3000);
        assertEquals(UnicornError.OK, engine.start(0x2000));
        assertEquals(0x23L, engine.read(X86Register.CS));
        assertEquals(0x1bL, engine.read(X86Register.SS));
        assertEquals(0L, engine.read(X86Register.DS)); // nulled: its hidden part never came from the GDT
        assertEquals(0x1bL, engine.read(X86Register.FS)); // kept: loaded with DPL 3
    }
}
