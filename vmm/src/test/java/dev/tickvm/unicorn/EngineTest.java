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
}
