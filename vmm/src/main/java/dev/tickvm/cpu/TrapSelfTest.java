package dev.tickvm.cpu;

import dev.tickvm.bus.PortIoBus;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.memory.GuestMemory;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.unicorn.X86Register;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Map;

/**
 * Proves, on the loaded Unicorn, that the trap mechanism of {@link Vcpu} works before any VM
 * relies on it: a user-mode guest executes RDTSC five times in a row (so the first #GP, the #DF
 * of bug 1883, and the silent triple-fault stops are all crossed), then RDTSCP, WRMSR, RDMSR and
 * HLT; every one must be emulated with its result in the right registers, a register untouched
 * by the guest must survive, and the HLT must land at its exact address.
 */
public final class TrapSelfTest {
    private static final Map<String, Boolean> PASSED = new ConcurrentHashMap<>();

    /**
     * mov r12, 0x1122334455667788; xor r13, r13; mov ebx, 5;
     * loop: rdtsc; add r13, rax; dec ebx; jnz loop; rdtscp; wrmsr; rdmsr; hlt.
     * One RDTSC site executed five times: in FAULT mode that crosses the first #GP, the #DF of
     * bug 1883 and the silent stops; in PATCH mode the patch and four INT n hits.
     */
    private static final String CODE = "49bc8877665544332211" + "4d31ed" + "bb05000000"
            + "0f31" + "4901c5" + "ffcb" + "75f7" + "0f01f9" + "0f30" + "0f32" + "f4";
    private static final long LOAD = 0x100000;

    private TrapSelfTest() {
    }

    /** Runs the check once per library and mode; throws IllegalStateException naming what failed. */
    public static void ensure(Unicorn unicorn, TrapMode mode) {
        String key = unicorn.source() + "/" + mode;
        if (PASSED.containsKey(key)) {
            return;
        }
        run(unicorn, mode);
        PASSED.put(key, true);
    }

    private static void run(Unicorn unicorn, TrapMode mode) {
        byte[] code = HexFormat.of().parseHex(CODE);
        Emulator emulator = new Emulator();
        try (GuestMemory memory = new GuestMemory(GuestMemory.MIN_SIZE)) {
            BootLayout.writeShared(memory);
            memory.write(LOAD, code);
            try (Vcpu vcpu = new Vcpu(0, 1, unicorn, memory, new PortIoBus(), new VirtualClock(), emulator, mode,
                    BlockHookKind.JAVA, new PatchTable(), LOAD)) {
                VcpuExit exit = vcpu.run(1_000_000);
                long hlt = LOAD + code.length - 1;
                check(unicorn, exit instanceof VcpuExit.Halted h && h.rip() == hlt, "expected HLT at 0x"
                        + Long.toHexString(hlt) + ", got " + describe(exit));
                check(unicorn, vcpu.traps() == 9, "expected 9 emulated traps, got " + vcpu.traps());
                long viaPatch = mode == TrapMode.PATCH ? 4 : 0;
                check(unicorn, vcpu.patchedTraps() == viaPatch, mode + ": expected " + viaPatch
                        + " traps through a patched INT n, got " + vcpu.patchedTraps());
                long r12 = vcpu.engine().read(X86Register.R12);
                check(unicorn, r12 == 0x1122334455667788L, "R12 changed across traps: 0x" + Long.toHexString(r12));
                long r13 = vcpu.engine().read(X86Register.R13);
                check(unicorn, r13 == 1 + 2 + 3 + 4 + 5, "RDTSC results lost: sum " + r13);
                check(unicorn, emulator.written == 6, "WRMSR saw 0x" + Long.toHexString(emulator.written));
                long rax = vcpu.engine().read(X86Register.RAX);
                check(unicorn, rax == 0x4242, "RDMSR result 0x" + Long.toHexString(rax));
            }
        }
    }

    private static String describe(VcpuExit exit) {
        return exit instanceof VcpuExit.Fault f ? f.message() : String.valueOf(exit);
    }

    private static void check(Unicorn unicorn, boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("trap-and-emulate does not work on " + unicorn.describe() + ": " + what);
        }
    }

    /** TSC counts 1, 2, 3...; RDTSCP's TSC_AUX is 0; WRMSR of anything records the value; RDMSR returns 0x4242. */
    private static final class Emulator implements TrapEmulator {
        long tsc;
        long written = -1;

        @Override
        public long readTsc() {
            return ++tsc;
        }

        @Override
        public long readTscAux() {
            return 0;
        }

        @Override
        public long readMsr(int index) {
            return 0x4242;
        }

        @Override
        public void writeMsr(int index, long value) {
            written = value;
        }

        @Override
        public int[] cpuid(int leaf, int subleaf) {
            return null;
        }
    }
}
