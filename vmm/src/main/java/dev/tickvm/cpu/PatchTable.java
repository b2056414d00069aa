package dev.tickvm.cpu;

import dev.tickvm.memory.GuestMemory;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The time instructions that have been rewritten in guest memory as {@code INT n} (+ NOPs), one
 * table per machine because all vCPUs share the code. Why: an {@code INT n} reaches Unicorn's
 * interrupt hook without touching the CPU's "previous exception" state (bug 1883) and without
 * stopping the engine, so a patched RDTSC costs one upcall instead of a uc_emu_start round trip
 * (measured in bench/).
 *
 * <p>Consequences, written down because they are visible: a guest that reads its own code sees
 * the patch; an {@code INT n} at an address not in this table is the guest's own and ends the VM
 * (a guest cannot take interrupts here); the table is VM state, and a snapshot must store guest
 * memory with the original bytes put back ({@link #unpatched}). HLT is one byte and stays on the
 * fault path.
 */
public final class PatchTable {
    /** Vectors used for the patched instructions; no guest can take interrupts, so none clash. */
    static final int VECTOR_BASE = 0xf0;

    /** One rewritten site: what was there and how long it was. */
    public record Site(long address, TrapKind kind, byte[] original) {
    }

    private final Map<Long, Site> sites = new HashMap<>();

    /** The vector for a patched instruction of this kind. */
    static int vector(TrapKind kind) {
        return VECTOR_BASE + kind.ordinal();
    }

    /** The kind whose patch uses this vector, or null. */
    static TrapKind kindOf(int vector) {
        int i = vector - VECTOR_BASE;
        return i >= 0 && i < TrapKind.HLT.ordinal() ? KINDS[i] : null;
    }

    /** TrapKind.values() once: on the trap path, not an array per trap. */
    private static final TrapKind[] KINDS = TrapKind.values();

    /** True if the trap at this address can be patched (it is at least 2 bytes long). */
    static boolean patchable(Trap trap) {
        return trap.kind() != TrapKind.HLT && trap.length() >= 2;
    }

    /** Rewrites the trap at {@code address} as INT n + NOPs and records it. */
    void patch(GuestMemory memory, long address, Trap trap) {
        byte[] original = memory.read(address, trap.length());
        memory.write(address, patchBytes(trap.kind(), trap.length()));
        sites.put(address, new Site(address, trap.kind(), original));
    }

    /** Whether guest memory still holds the patch written at {@code site}: INT n and its NOPs. */
    boolean intact(GuestMemory memory, Site site) {
        // On every patched trap: byte reads, no arrays.
        int length = site.original.length;
        if (!memory.contains(site.address, length) || memory.readByte(site.address) != (byte) 0xcd
                || memory.readByte(site.address + 1) != (byte) vector(site.kind)) {
            return false;
        }
        for (int i = 2; i < length; i++) {
            if (memory.readByte(site.address + i) != (byte) 0x90) {
                return false;
            }
        }
        return true;
    }

    /**
     * The guest wrote over a patched site: put back what the guest would see had the site never
     * been patched (the original bytes, except where the guest has written a byte different from
     * the patch's, which wins) and forget the site, so that the guest's new code runs as it would
     * on hardware. A guest byte equal to the patch's at that offset is taken for the original's:
     * the one case this cannot tell apart.
     */
    void repair(GuestMemory memory, Site site) {
        int length = site.original.length;
        byte[] now = memory.read(site.address, length);
        byte[] patch = patchBytes(site.kind, length);
        byte[] merged = new byte[length];
        for (int i = 0; i < length; i++) {
            merged[i] = now[i] == patch[i] ? site.original[i] : now[i];
        }
        memory.write(site.address, merged);
        sites.remove(site.address);
    }

    private static byte[] patchBytes(TrapKind kind, int length) {
        byte[] patch = new byte[length];
        patch[0] = (byte) 0xcd;
        patch[1] = (byte) vector(kind);
        for (int i = 2; i < length; i++) {
            patch[i] = (byte) 0x90;
        }
        return patch;
    }

    /** The site patched at this address, or null. */
    public Site at(long address) {
        return sites.get(address);
    }

    public int size() {
        return sites.size();
    }

    /** Every patched site, in address order (a snapshot stores their original bytes). */
    public List<Site> sites() {
        return sites.values().stream().sorted(Comparator.comparingLong(Site::address)).toList();
    }

    /** A copy of guest memory [address, address + length) with every patch undone. */
    public byte[] unpatched(GuestMemory memory, long address, int length) {
        byte[] bytes = memory.read(address, length);
        for (Site site : sites.values()) {
            if (!intact(memory, site)) {
                continue; // the guest has written over it: its bytes are the guest's now
            }
            for (int i = 0; i < site.original.length; i++) {
                long a = site.address + i;
                if (a >= address && a < address + length) {
                    bytes[(int) (a - address)] = site.original[i];
                }
            }
        }
        return bytes;
    }
}
