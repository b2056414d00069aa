package dev.tickvm.cpu;

import dev.tickvm.memory.GuestMemory;
import dev.tickvm.unicorn.Engine;

/**
 * The low guest memory the VMM owns, and how a vCPU enters its guest at CPL3.
 *
 * <pre>
 * 0x0000-0x0fff  unused (a jump to 0 stops Unicorn, whose "until" address is 0)
 * 0x1000         GDT: null, 0x08 kernel code, 0x10 kernel data, 0x18 user data, 0x20 user code  (read)
 * 0x2000         boot stub: IRETQ                                                    (read, execute)
 * 0x3000-0x3fff  boot frames, 64 bytes per vCPU: RIP, CS, RFLAGS, RSP, SS for the IRETQ  (read)
 * 0x4000-0xffff  reserved for VMM/guest shared areas
 * 0x100000       guest image
 * top of RAM     vCPU stacks, 16 KiB each, vCPU 0 highest
 * </pre>
 *
 * Why CPL3: RDTSC (with CR4.TSD), RDTSCP, RDMSR, WRMSR and HLT then raise #GP, which is how the
 * VMM gets to emulate them (Unicorn has no instruction hooks for MSRs, and executes them itself
 * at CPL0). Writing CS through Unicorn does not change the CPL in 64-bit mode, so the vCPU starts
 * at a CPL0 stub whose IRETQ pops a user-mode frame. A vCPU restored from a saved state re-enters
 * user mode through the same stub and its frame slot (see RegisterFile).
 *
 * <h2>The guest cannot write what puts a vCPU at CPL0</h2>
 * Whoever writes the GDT, the stub or a frame that a vCPU has yet to IRETQ through chooses
 * the CPL and the code it runs with (issue 11: vCPU 0 rewrote vCPU 1's frame to CS 0x08, and
 * vCPU 1 then ran RDTSC, RDMSR and MOV CR0 untrapped). So every engine maps these three pages
 * without Unicorn's write permission ({@link #mapGuestMemory}): Unicorn checks a mapping's
 * permissions on every guest access whatever the CPL (the CPU's descriptor and IRETQ reads
 * need only read permission), and a guest write there stops the engine with WRITE_PROT, which
 * ends the VM with a PROTECTION fault naming the address. Only the stub page is executable. The VMM writes them through host memory, which
 * the permissions do not cover. The descriptors carry their accessed bit already, so loading
 * one never needs the CPU to write the GDT. There is no IDT to protect: every exception and
 * INT n reaches the interrupt hook instead of being delivered, and there are no page tables
 * (Unicorn's 64-bit mode runs with CR0.PG clear, and a CPL3 MOV to CR3 or CR0 raises #GP).
 */
public final class BootLayout {
    public static final long GDT_BASE = 0x1000;
    public static final long BOOT_STUB = 0x2000;
    public static final long BOOT_FRAMES = 0x3000;
    public static final long BOOT_FRAME_SIZE = 64;
    public static final long STACK_SIZE = 16 * 1024;
    public static final int MAX_VCPUS = 64;

    public static final int KERNEL_CS = 0x08;
    public static final int USER_DS = 0x18 | 3;
    public static final int USER_CS = 0x20 | 3;
    /** IOPL 3 (bits 12-13) and the always-one bit 1; interrupts off: nothing would deliver them. */
    public static final long USER_RFLAGS = 0x3002;
    /** CR4.TSD: RDTSC and RDTSCP fault outside CPL0. */
    public static final long CR4_TSD = 1L << 2;
    /** CR4.OSFXSR: SSE instructions (and FXSAVE's SSE part) are enabled. */
    public static final long CR4_OSFXSR = 1L << 9;
    /** CR4.OSXMMEXCPT: unmasked SSE exceptions raise #XM rather than #UD. */
    public static final long CR4_OSXMMEXCPT = 1L << 10;
    /** CR4.FSGSBASE: RDFSBASE/WRFSBASE/RDGSBASE/WRGSBASE work at CPL3, as Linux allows since 5.9. */
    public static final long CR4_FSGSBASE = 1L << 16;
    /**
     * CR4 at boot. Unicorn resets CR4 to 0 while its internal flags say "SSE on"; on 2.1.x any CR4
     * write recomputes those flags from the value (2.0.1 stores the value only), so without
     * OSFXSR here SSE would raise #UD on 2.1.x once CR4.TSD was set (BootProtocolTest).
     */
    public static final long BOOT_CR4 = CR4_TSD | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_FSGSBASE;

    private static final long[] GDT = {
        0L,
        0x00AF9B000000FFFFL, // 0x08 kernel code, 64-bit
        0x00CF93000000FFFFL, // 0x10 kernel data
        0x00CFF3000000FFFFL, // 0x18 user data, DPL 3
        0x00AFFB000000FFFFL, // 0x20 user code, 64-bit, DPL 3
    };
    /** IRETQ. */
    static final byte[] STUB = {0x48, (byte) 0xcf};
    /** The five quadwords IRETQ pops: RIP, CS, RFLAGS, RSP, SS. */
    static final int IRET_FRAME_LENGTH = 40;

    private BootLayout() {
    }

    /** Where the VMM's pages end: guest RAM from here up is the guest's to read, write and execute. */
    public static final long VMM_PAGES_END = 0x4000;
    private static final long PAGE = 0x1000;

    /**
     * Maps guest RAM into {@code engine}: read, write and execute everywhere except the GDT page
     * (read), the stub page (read, execute) and the boot-frame page (read).
     */
    public static void mapGuestMemory(Engine engine, GuestMemory memory) {
        var ram = memory.segment();
        engine.mapHostMemory(0, ram.asSlice(0, GDT_BASE), Engine.PROT_ALL);
        engine.mapHostMemory(GDT_BASE, ram.asSlice(GDT_BASE, PAGE), Engine.PROT_READ);
        engine.mapHostMemory(BOOT_STUB, ram.asSlice(BOOT_STUB, PAGE), Engine.PROT_READ | Engine.PROT_EXEC);
        engine.mapHostMemory(BOOT_FRAMES, ram.asSlice(BOOT_FRAMES, PAGE), Engine.PROT_READ);
        engine.mapHostMemory(VMM_PAGES_END, ram.asSlice(VMM_PAGES_END), Engine.PROT_ALL);
    }

    /** Size of the GDT in bytes minus one, as GDTR wants it. */
    public static int gdtLimit() {
        return GDT.length * 8 - 1;
    }

    /** Writes the GDT and the boot stub: once per machine, shared by every vCPU. */
    public static void writeShared(GuestMemory memory) {
        for (int i = 0; i < GDT.length; i++) {
            memory.writeLong(GDT_BASE + i * 8L, GDT[i]);
        }
        writeStub(memory);
    }

    /** The boot stub: one IRETQ. */
    static void writeStub(GuestMemory memory) {
        memory.write(BOOT_STUB, STUB.clone());
    }

    /** Top of vCPU {@code id}'s stack (it grows down). */
    public static long stackTop(GuestMemory memory, int id) {
        return memory.size() - id * STACK_SIZE;
    }

    /** Lowest address the stacks of {@code vcpus} vCPUs use: an image must end below it. */
    public static long stacksBottom(long memorySize, int vcpus) {
        return memorySize - vcpus * STACK_SIZE;
    }

    /** Writes vCPU {@code id}'s IRETQ frame and returns the RSP to start the stub with. */
    public static long writeBootFrame(GuestMemory memory, int id, long entry) {
        return writeIretFrame(memory, id, entry, USER_CS, USER_RFLAGS, stackTop(memory, id), USER_DS);
    }

    /** Where vCPU {@code id}'s IRETQ frame lives. */
    static long frameAddress(int id) {
        return BOOT_FRAMES + id * BOOT_FRAME_SIZE;
    }

    /** Writes an IRETQ frame in vCPU {@code id}'s slot and returns the RSP to start the stub with. */
    static long writeIretFrame(GuestMemory memory, int id, long rip, int cs, long rflags, long rsp, int ss) {
        long frame = frameAddress(id);
        memory.writeLong(frame, rip);
        memory.writeLong(frame + 8, cs);
        memory.writeLong(frame + 16, rflags);
        memory.writeLong(frame + 24, rsp);
        memory.writeLong(frame + 32, ss);
        return frame;
    }
}
