package dev.tickvm.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
    private static final long SIZE = 2L << 20;
    private GuestMemory memory;

    @BeforeEach
    void open() {
        memory = new GuestMemory(SIZE);
    }

    @AfterEach
    void close() {
        memory.close();
    }

    @Test
    void sizeIsWhatWasAskedAndTheSegmentIsPageAligned() {
        assertEquals(SIZE, memory.size());
        assertEquals(SIZE, memory.segment().byteSize());
        assertEquals(0L, memory.segment().address() % GuestMemory.PAGE_SIZE);
    }

    @Test
    void freshMemoryReadsAsZero() {
        assertEquals(0L, memory.readLong(0));
        assertEquals(0L, memory.readLong(SIZE - 8));
    }

    @Test
    void valuesAreStoredLittleEndian() {
        memory.writeInt(0x10, 0x11223344);
        assertArrayEquals(HexFormat.of().parseHex("44332211"), memory.read(0x10, 4));
        memory.writeLong(0x20, 0x0102030405060708L);
        assertArrayEquals(HexFormat.of().parseHex("0807060504030201"), memory.read(0x20, 8));
        memory.writeShort(0x30, (short) 0xbeef);
        assertEquals((byte) 0xef, memory.readByte(0x30));
        assertEquals((byte) 0xbe, memory.readByte(0x31));
        memory.write(0x40, HexFormat.of().parseHex("efcdab8967452301"));
        assertEquals(0x0123456789abcdefL, memory.readLong(0x40));
        assertEquals(0x89abcdef, memory.readInt(0x40));
        assertEquals((short) 0xcdef, memory.readShort(0x40));
    }

    @Test
    void unalignedAccessesWork() {
        memory.writeLong(0x1003, -2L);
        assertEquals(-2L, memory.readLong(0x1003));
        assertEquals((byte) 0xfe, memory.readByte(0x1003));
        assertEquals(0L, memory.readLong(0x100b) & 0xff);
    }

    @Test
    void lastBytesOfRamAreAccessible() {
        memory.writeLong(SIZE - 8, 0x7766554433221100L);
        assertEquals(0x77, memory.readByte(SIZE - 1));
        assertEquals(0x7766554433221100L, memory.readLong(SIZE - 8));
    }

    @Test
    void accessPastTheEndThrowsGuestMemoryExceptionNamingTheAddress() {
        GuestMemoryException e = assertThrows(GuestMemoryException.class, () -> memory.readLong(SIZE - 4));
        assertEquals("guest access of 8 bytes at 0x1ffffc is outside guest RAM (0x0-0x200000)", e.getMessage());
        assertInstanceOf(IndexOutOfBoundsException.class, e);

        e = assertThrows(GuestMemoryException.class, () -> memory.writeByte(SIZE, (byte) 1));
        assertEquals("guest access of 1 byte at 0x200000 is outside guest RAM (0x0-0x200000)", e.getMessage());

        e = assertThrows(GuestMemoryException.class, () -> memory.write(SIZE - 2, new byte[3]));
        assertEquals("guest access of 3 bytes at 0x1ffffe is outside guest RAM (0x0-0x200000)", e.getMessage());

        e = assertThrows(GuestMemoryException.class, () -> memory.readInt(0x7f0000000000L));
        assertEquals("guest access of 4 bytes at 0x7f0000000000 is outside guest RAM (0x0-0x200000)", e.getMessage());
    }

    @Test
    void negativeAddressOrLengthIsRejected() {
        GuestMemoryException e = assertThrows(GuestMemoryException.class, () -> memory.readByte(-1));
        assertEquals("guest access of 1 byte at 0xffffffffffffffff is outside guest RAM (0x0-0x200000)",
                e.getMessage());
        assertThrows(GuestMemoryException.class, () -> memory.read(0, -1));
    }

    @Test
    void failedWriteChangesNothing() {
        memory.writeShort(SIZE - 2, (short) 0x1234);
        assertThrows(GuestMemoryException.class, () -> memory.writeInt(SIZE - 2, -1));
        assertEquals((short) 0x1234, memory.readShort(SIZE - 2));
    }

    @Test
    void containsChecksTheWholeRange() {
        assertTrue(memory.contains(0, SIZE));
        assertTrue(memory.contains(SIZE, 0));
        assertTrue(memory.contains(SIZE - 1, 1));
        assertFalse(memory.contains(SIZE - 1, 2));
        assertFalse(memory.contains(-1, 1));
        assertFalse(memory.contains(0, -1));
        assertFalse(memory.contains(Long.MAX_VALUE, 1));
        assertFalse(memory.contains(1, Long.MAX_VALUE));
    }

    @Test
    void readAvailableStopsAtTheEndOfRam() {
        memory.write(SIZE - 3, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, memory.readAvailable(SIZE - 3, 15));
        assertArrayEquals(new byte[] {1, 2}, memory.readAvailable(SIZE - 3, 2));
        assertArrayEquals(new byte[0], memory.readAvailable(SIZE, 15));
        assertArrayEquals(new byte[0], memory.readAvailable(-5, 15));
    }

    @Test
    void sizesOutsideTwoMibToFourGibOrNotPageMultiplesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new GuestMemory(1L << 20));
        assertEquals("guest memory must be a multiple of 4 KiB between 2 MiB and 4 GiB, got 1048576 bytes",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new GuestMemory((2L << 20) + 1));
        assertEquals("guest memory must be a multiple of 4 KiB between 2 MiB and 4 GiB, got 2097153 bytes",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new GuestMemory((2L << 20) + 2048));
        assertEquals("guest memory must be a multiple of 4 KiB between 2 MiB and 4 GiB, got 2099200 bytes",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new GuestMemory((4L << 30) + 4096));
        assertEquals("guest memory must be a multiple of 4 KiB between 2 MiB and 4 GiB, got 4294971392 bytes",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GuestMemory(0));
        assertThrows(IllegalArgumentException.class, () -> new GuestMemory(-4096));
    }

    @Test
    void smallestAcceptedSizeIsTwoMibPlusWholePagesAbove() {
        try (GuestMemory m = new GuestMemory((2L << 20) + 4096)) {
            assertEquals((2L << 20) + 4096, m.size());
        }
        assertEquals(2L << 20, GuestMemory.MIN_SIZE);
        assertEquals(4L << 30, GuestMemory.MAX_SIZE);
    }

    /** Resident set size of this JVM, in KiB, from /proc/self/status. */
    private static long rssKib() throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }

    /**
     * Untouched RAM costs nothing (issue 11.8): 4 GiB of guest RAM, its first and last pages
     * written, adds far less than 64 MiB of resident memory, and reads as zeros elsewhere.
     */
    @Test
    void untouchedRamIsNotResident() throws java.io.IOException {
        long before = rssKib();
        try (GuestMemory big = new GuestMemory(GuestMemory.MAX_SIZE)) {
            big.writeLong(0, 0x1122334455667788L);
            big.writeLong(GuestMemory.MAX_SIZE - 8, -1L);
            assertEquals(0L, big.readLong(GuestMemory.MAX_SIZE / 2));
            assertEquals(0x1122334455667788L, big.readLong(0));
            long grown = rssKib() - before;
            assertTrue(grown < 64 * 1024, "RSS grew by " + grown + " KiB for 4 GiB of RAM");
        }
    }
}
