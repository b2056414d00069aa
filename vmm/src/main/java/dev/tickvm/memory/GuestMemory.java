package dev.tickvm.memory;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

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
        this.ram = anonymous(size, arena);
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MMAP = LINKER.defaultLookup().find("mmap").map(a -> LINKER.downcallHandle(a,
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG))).orElse(null);
    private static final MethodHandle MUNMAP = LINKER.defaultLookup().find("munmap").map(a -> LINKER.downcallHandle(a,
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG))).orElse(null);
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS_NORESERVE = 0x02 | 0x20 | 0x4000;

    /**
     * RAM from an anonymous private mapping: the kernel hands out zeroed pages as the guest first
     * touches them, so untouched RAM costs nothing (Arena.allocate zeroes, hence touches, all of
     * it: 4 GiB of RAM was 4.3 GB of RSS and seconds even for 'hello'). Falls back to the arena
     * where mmap is not found or fails.
     */
    private static MemorySegment anonymous(long size, Arena arena) {
        if (MMAP != null && MUNMAP != null) {
            try {
                MemorySegment at = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ_WRITE,
                        MAP_PRIVATE_ANONYMOUS_NORESERVE, -1, 0L);
                if (at.address() != -1L && at.address() % PAGE_SIZE == 0) {
                    return at.reinterpret(size, arena, segment -> unmap(segment.address(), size));
                }
            } catch (Throwable e) {
                // fall back below
            }
        }
        return arena.allocate(size, PAGE_SIZE);
    }

    private static void unmap(long address, long size) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), size);
        } catch (Throwable e) {
            throw new IllegalStateException("munmap of guest RAM failed", e);
        }
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
