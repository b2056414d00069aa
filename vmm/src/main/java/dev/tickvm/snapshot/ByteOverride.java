package dev.tickvm.snapshot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Objects;

/**
 * Bytes to store in the snapshot instead of what guest RAM holds at {@code address}. The VMM
 * rewrites trapped time instructions in guest memory (PatchTable); the snapshot must hold the
 * guest's original bytes there, so that a restore, possibly by a tickvm that patches differently
 * or not at all, starts from the guest's own code.
 *
 * @param address guest-physical address of the first byte
 * @param bytes   the bytes to store (copied; at least one)
 */
public record ByteOverride(long address, byte[] bytes) {
    public ByteOverride {
        Objects.requireNonNull(bytes, "bytes");
        if (address < 0 || bytes.length == 0) {
            throw new IllegalArgumentException("a byte override needs an address >= 0 and at least one byte, got "
                    + bytes.length + " at " + address);
        }
        bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    /** One past the last byte. */
    public long end() {
        return address + bytes.length;
    }

    /**
     * Writes the overridden bytes that fall in guest range [guestAddress, guestAddress + length)
     * over {@code target}, which holds that range from {@code targetOffset}. {@code sorted} is
     * ordered by address and has no overlaps (as {@link SnapshotContents} keeps it), so ends are
     * ordered too and a binary search finds the first candidate.
     */
    static void apply(List<ByteOverride> sorted, long guestAddress, MemorySegment target, long targetOffset,
            long length) {
        int lo = 0;
        int hi = sorted.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted.get(mid).end() <= guestAddress) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        long rangeEnd = guestAddress + length;
        for (int i = lo; i < sorted.size() && sorted.get(i).address < rangeEnd; i++) {
            ByteOverride o = sorted.get(i);
            long from = Math.max(o.address, guestAddress);
            long to = Math.min(o.end(), rangeEnd);
            MemorySegment.copy(o.bytes, (int) (from - o.address), target, ValueLayout.JAVA_BYTE,
                    targetOffset + (from - guestAddress), (int) (to - from));
        }
    }
}
