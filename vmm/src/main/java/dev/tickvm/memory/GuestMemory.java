package dev.tickvm.memory;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Guest RAM: one native, page-aligned segment starting at guest-physical address 0, shared by
 * every vCPU's engine (each maps it with uc_mem_map_ptr). Reads and writes from Java are bounds
 * checked and little-endian, like the guest's own.
 */
public final class GuestMemory implements AutoCloseable {
    /** Unicorn maps whole 4 KiB pages. */
    public static final long PAGE_SIZE = 4096;
    /** Smallest RAM tickvm accepts: the boot area below 1 MiB plus room for an image and stacks. */
    public static final long MIN_SIZE = 2L << 20;
    /** Largest RAM tickvm accepts. */
    public static final long MAX_SIZE = 4L << 30;

    private final Arena arena;
    private final MemorySegment ram;

    public GuestMemory(long size) {
        if (size < MIN_SIZE || size > MAX_SIZE || size % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("guest memory must be a multiple of 4 KiB between "
                    + (MIN_SIZE >> 20) + " MiB and " + (MAX_SIZE >> 30) + " GiB, got " + size + " bytes");
        }
        this.arena = Arena.ofShared();
        this.ram = arena.allocate(size, PAGE_SIZE);
    }

    public long size() {
        return ram.byteSize();
    }

    /** The backing segment, for mapping into engines. Outlives them only while this is open. */
    public MemorySegment segment() {
        return ram;
    }

    public byte readByte(long address) {
        return ram.get(JAVA_BYTE, check(address, 1));
    }

    public short readShort(long address) {
        return ram.get(JAVA_SHORT_UNALIGNED, check(address, 2));
    }

    public int readInt(long address) {
        return ram.get(JAVA_INT_UNALIGNED, check(address, 4));
    }

    public long readLong(long address) {
        return ram.get(JAVA_LONG_UNALIGNED, check(address, 8));
    }

    public void writeByte(long address, byte value) {
        ram.set(JAVA_BYTE, check(address, 1), value);
    }

    public void writeShort(long address, short value) {
        ram.set(JAVA_SHORT_UNALIGNED, check(address, 2), value);
    }

    public void writeInt(long address, int value) {
        ram.set(JAVA_INT_UNALIGNED, check(address, 4), value);
    }

    public void writeLong(long address, long value) {
        ram.set(JAVA_LONG_UNALIGNED, check(address, 8), value);
    }

    public byte[] read(long address, int length) {
        return ram.asSlice(check(address, length), length).toArray(JAVA_BYTE);
    }

    /** Reads up to {@code max} bytes, fewer where RAM ends (for showing the bytes at a faulting RIP). */
    public byte[] readAvailable(long address, int max) {
        if (address < 0 || address >= size()) {
            return new byte[0];
        }
        return read(address, (int) Math.min(max, size() - address));
    }

    public void write(long address, byte[] data) {
        MemorySegment.copy(data, 0, ram, JAVA_BYTE, check(address, data.length), data.length);
    }

    /** True if [address, address + length) lies inside guest RAM. */
    public boolean contains(long address, long length) {
        return address >= 0 && length >= 0 && address <= size() - length;
    }

    private long check(long address, long length) {
        if (!contains(address, length)) {
            throw new GuestMemoryException(address, length, size());
        }
        return address;
    }

    @Override
    public void close() {
        arena.close();
    }
}
