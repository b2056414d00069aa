package dev.tickvm.kvm;

import dev.tickvm.memory.GuestMemory;

/**
 * struct pvclock_vcpu_time_info: 32 bytes, little-endian, packed (docs/TIME.md section 6).
 *
 * <pre>
 * 0  u32 version      odd while the host writes
 * 4  u32 pad
 * 8  u64 tsc_timestamp guest TSC at the reference point
 * 16 u64 system_time   kvmclock ns at the reference point
 * 24 u32 tsc_to_system_mul
 * 28 s8  tsc_shift
 * 29 u8  flags        bit 0 TSC_STABLE, bit 1 GUEST_STOPPED
 * 30 u8[2] pad
 * </pre>
 *
 * @param version the version this content is published under (even)
 */
public record Pvclock(int version, long tscTimestamp, long systemTime, int mul, int shift, int flags) {
    public static final int SIZE = 32;
    public static final int TSC_STABLE_BIT = 1;
    public static final int GUEST_STOPPED_BIT = 1 << 1;

    /**
     * __pvclock_read_cycles: system_time + scale_delta(tsc - tsc_timestamp). The guest computes
     * this from the page and its own RDTSC.
     */
    public long nanosAt(long guestTsc) {
        return systemTime + new TscMath.TimeScale(shift, mul & 0xffff_ffffL).apply(guestTsc - tscTimestamp);
    }

    /**
     * Publishes this content at {@code gpa} with the odd/even protocol of
     * kvm_setup_guest_pvclock: version = (old + 1) | 1, the fields, then version + 1. Keeps a
     * GUEST_STOPPED bit the guest has not consumed. Returns what was published.
     */
    public static Pvclock publish(GuestMemory memory, long gpa, long tscTimestamp, long systemTime, TscMath.TimeScale scale,
            int flags) {
        int odd = (memory.readInt(gpa) + 1) | 1;
        int keptFlags = flags | (memory.readByte(gpa + 29) & GUEST_STOPPED_BIT);
        memory.writeInt(gpa, odd);
        memory.writeInt(gpa + 4, 0);
        memory.writeLong(gpa + 8, tscTimestamp);
        memory.writeLong(gpa + 16, systemTime);
        memory.writeInt(gpa + 24, (int) scale.mul());
        memory.writeByte(gpa + 28, (byte) scale.shift());
        memory.writeByte(gpa + 29, (byte) keptFlags);
        memory.writeShort(gpa + 30, (short) 0);
        memory.writeInt(gpa, odd + 1);
        return new Pvclock(odd + 1, tscTimestamp, systemTime, (int) scale.mul(), scale.shift(), keptFlags);
    }

    /** Reads the page as it is now (the version may be odd if caught mid-update). */
    public static Pvclock read(GuestMemory memory, long gpa) {
        return new Pvclock(memory.readInt(gpa), memory.readLong(gpa + 8), memory.readLong(gpa + 16),
                memory.readInt(gpa + 24), memory.readByte(gpa + 28), memory.readByte(gpa + 29) & 0xff);
    }

    /** True if a 32-byte page at gpa lies in guest RAM and within one 4 KiB page, as KVM requires. */
    public static boolean placeable(GuestMemory memory, long gpa) {
        return memory.contains(gpa, SIZE) && (gpa & 0xfff) + SIZE <= 0x1000;
    }
}
