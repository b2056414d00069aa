package dev.tickvm.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.memory.GuestMemory;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PatchTableTest {
    private GuestMemory memory;
    private final PatchTable table = new PatchTable();

    @BeforeEach
    void open() {
        memory = new GuestMemory(GuestMemory.MIN_SIZE);
    }

    @AfterEach
    void close() {
        memory.close();
    }

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    @Test
    void eachPatchableKindHasItsOwnVectorFromF0() {
        assertEquals(0xf0, PatchTable.vector(TrapKind.RDTSC));
        assertEquals(0xf1, PatchTable.vector(TrapKind.RDTSCP));
        assertEquals(0xf2, PatchTable.vector(TrapKind.RDMSR));
        assertEquals(0xf3, PatchTable.vector(TrapKind.WRMSR));
        assertEquals(TrapKind.RDTSC, PatchTable.kindOf(0xf0));
        assertEquals(TrapKind.WRMSR, PatchTable.kindOf(0xf3));
        assertNull(PatchTable.kindOf(0xf4)); // HLT is never patched
        assertNull(PatchTable.kindOf(0xef));
        assertNull(PatchTable.kindOf(0x80));
    }

    @Test
    void hltAndOneByteTrapsAreNotPatchable() {
        assertFalse(PatchTable.patchable(new Trap(TrapKind.HLT, 1)));
        assertFalse(PatchTable.patchable(new Trap(TrapKind.HLT, 3)));
        assertTrue(PatchTable.patchable(new Trap(TrapKind.RDTSC, 2)));
        assertTrue(PatchTable.patchable(new Trap(TrapKind.RDTSCP, 3)));
    }

    @Test
    void patchWritesIntNPaddedWithNopsAndRemembersTheOriginal() {
        memory.write(0x100000, hex("90 662e480f31 90 0f01f9 90"));
        table.patch(memory, 0x100001, new Trap(TrapKind.RDTSC, 5));
        table.patch(memory, 0x100007, new Trap(TrapKind.RDTSCP, 3));
        assertArrayEquals(hex("90 cdf0909090 90 cdf190 90"), memory.read(0x100000, 11));
        assertEquals(2, table.size());
        PatchTable.Site site = table.at(0x100001);
        assertEquals(0x100001L, site.address());
        assertEquals(TrapKind.RDTSC, site.kind());
        assertArrayEquals(hex("662e480f31"), site.original());
        assertNull(table.at(0x100000));
        assertNull(table.at(0x100002));
    }

    @Test
    void unpatchedPutsBackOriginalBytesOnlyInsideTheRequestedWindow() {
        memory.write(0x100000, hex("0f31 90 0f01f9 f4"));
        table.patch(memory, 0x100000, new Trap(TrapKind.RDTSC, 2));
        table.patch(memory, 0x100003, new Trap(TrapKind.RDTSCP, 3));
        assertArrayEquals(hex("0f31 90 0f01f9 f4"), table.unpatched(memory, 0x100000, 7));
        // A window cutting through both sites.
        assertArrayEquals(hex("31 90 0f01"), table.unpatched(memory, 0x100001, 4));
        // Guest memory itself still holds the patches.
        assertArrayEquals(hex("cdf0 90 cdf190 f4"), memory.read(0x100000, 7));
        // A window with no site is plain memory.
        assertArrayEquals(hex("f4 00"), table.unpatched(memory, 0x100006, 2));
    }
}
