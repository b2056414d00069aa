package dev.tickvm.bench;

import dev.tickvm.bus.PortIoDevice;
import dev.tickvm.cpu.BlockHookKind;
import dev.tickvm.cpu.BootLayout;
import dev.tickvm.cpu.TrapMode;
import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.images.GuestImages;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.trace.Tracer;
import dev.tickvm.machine.IoOutHandler;
import dev.tickvm.machine.Machine;
import dev.tickvm.memory.GuestMemory;
import dev.tickvm.unicorn.CpuModel;
import dev.tickvm.unicorn.DescriptorRegister;
import dev.tickvm.unicorn.Engine;
import dev.tickvm.unicorn.SegmentDescriptorRegister;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.unicorn.UnicornError;
import dev.tickvm.unicorn.X86Register;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The hand-made guests of the benchmarks, and the two ways to run them: a normal {@link Machine}
 * (vCPU scheduler, block hook, trap emulation) and a bare {@link Engine} set up the way a vCPU
 * is (same RAM layout, GDT, boot CR4, CPL3 entry through the boot stub) but with no block hook.
 *
 * <p>Every guest is endless and signals with an OUT to port 0xf4 every n loop iterations: each
 * OUT pauses the Machine (or stops the bare engine), and running it again does the next n. So
 * one VM serves all invocations of a benchmark, warm: no boot, engine set-up or first
 * translation in the measured time. uc_emu_stop called from the port hook takes effect at the
 * next block boundary; the OUT is followed by a jump, which ends its block, so nothing runs
 * after it.
 */
final class Guests {
    static final long LOAD = GuestImages.DEFAULT_LOAD_ADDRESS;
    static final int EXIT_PORT = 0xf4;
    static final long MEMORY = 4L << 20;

    private Guests() {
    }

    /** {@code l0: mov rcx, n; l: <body>; dec rcx; jnz l; xor eax, eax; out 0xf4, eax; jmp l0}. */
    static byte[] loop(int n, byte... body) {
        int size = 7 + body.length + 3 + 2 + 4 + 2;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x48, (byte) 0xc7, (byte) 0xc1}).putInt(n);          // l0: mov rcx, imm32
        b.put(body);                                                             // l: body
        b.put(new byte[] {0x48, (byte) 0xff, (byte) 0xc9});                      // dec rcx
        b.put(new byte[] {0x75, (byte) -(body.length + 3 + 2)});                 // jnz l
        b.put(new byte[] {0x31, (byte) 0xc0, (byte) 0xe7, (byte) EXIT_PORT});    // xor eax, eax; out 0xf4, eax
        b.put(new byte[] {(byte) 0xeb, (byte) -size});                           // jmp l0
        return b.array();
    }

    /** {@link #loop} around an RDTSC: one trapped time instruction per iteration. */
    static byte[] rdtscLoop(int n) {
        return loop(n, (byte) 0x0f, (byte) 0x31);
    }

    /** The same loop with a 2-byte NOP (66 90) instead of the RDTSC: the baseline. */
    static byte[] nopLoop(int n) {
        return loop(n, (byte) 0x66, (byte) 0x90);
    }

    /** Just {@code dec rcx; jnz}: 2 instructions and one translated block per iteration. */
    static byte[] registerLoop(int n) {
        return loop(n);
    }

    /**
     * A Machine as tickvm runs guests (1 vCPU, the scheduler's block hook, default quantum), with
     * a device at 0xf4 whose every write pauses the VM, and no budget.
     */
    static Machine machine(byte[] code, TrapMode mode) {
        return machine(code, mode, (vcpu, out) -> IoOutHandler.IoAction.PAUSE);
    }

    /** The same, on the given block hook. */
    static Machine machine(byte[] code, TrapMode mode, BlockHookKind hook) {
        return builder(code, mode, (vcpu, out) -> IoOutHandler.IoAction.PAUSE).blockHook(hook).build();
    }

    /** The same Machine, but the first write to 0xf4 ends the VM with the value written as exit code. */
    static Machine machineThatExits(byte[] code) {
        return machine(code, TrapMode.PATCH, (vcpu, out) -> new IoOutHandler.IoAction.Exit(out.value()));
    }

    /**
     * The PATCH-mode Machine of {@link #machine(byte[], TrapMode)} with the kvm layer as the trap
     * emulator, as a tickvm VM has it: a {@link KvmVm} on a simulated host over the machine's
     * clock, with its events going to {@code tracer}.
     */
    static Machine kvmMachine(byte[] code, Tracer tracer) {
        VirtualClock clock = new VirtualClock();
        KvmVm kvm = new KvmVm(SimulatedHost.standard("bench", clock), (leaf, subleaf) -> new int[4], tracer);
        return builder(code, TrapMode.PATCH, (vcpu, out) -> IoOutHandler.IoAction.PAUSE)
                .clock(clock)
                .trapEmulators(i -> kvm.createVcpu())
                .build();
    }

    private static Machine machine(byte[] code, TrapMode mode, IoOutHandler onOut) {
        return builder(code, mode, onOut).build();
    }

    private static Machine.Builder builder(byte[] code, TrapMode mode, IoOutHandler onOut) {
        PortIoDevice signal = PortIoDevice.doorbell();
        return Machine.builder()
                .memorySize(MEMORY)
                .trapMode(mode)
                .budget(Long.MAX_VALUE)
                .device(EXIT_PORT, 1, signal)
                .onIoOut(onOut)
                .image(LOAD, LOAD, code);
    }

    /**
     * A bare engine over fresh guest RAM holding {@code code}, set up like Vcpu's constructor
     * (HASWELL, RAM mapped at 0, GDT, boot CR4, boot frame, RDI/RSI/RDX), with only a port-out
     * hook, which stops the engine at the guest's OUT. Run it with {@link #start}.
     */
    static final class RawEngine implements AutoCloseable {
        final GuestMemory memory;
        final Engine engine;
        private final long frame;
        private boolean booted;

        RawEngine(byte[] code) {
            memory = new GuestMemory(MEMORY);
            BootLayout.writeShared(memory);
            memory.write(LOAD, code);
            frame = BootLayout.writeBootFrame(memory, 0, LOAD);
            engine = Unicorn.get().openX86_64();
            engine.setCpuModel(CpuModel.HASWELL);
            BootLayout.mapGuestMemory(engine, memory);
            engine.write(DescriptorRegister.GDTR,
                    SegmentDescriptorRegister.table(BootLayout.GDT_BASE, BootLayout.gdtLimit()));
            engine.write(X86Register.CR4, BootLayout.BOOT_CR4);
            engine.write(X86Register.RSP, frame);
            engine.write(X86Register.RDI, 0);
            engine.write(X86Register.RSI, 1);
            engine.write(X86Register.RDX, memory.size());
            engine.onPortOut((port, size, value) -> engine.stop());
        }

        /**
         * Runs the guest to its next OUT: the first time from the boot stub (whose IRETQ enters
         * it at CPL3), then from where it stopped.
         */
        void start() {
            long from = booted ? engine.read(X86Register.RIP) : BootLayout.BOOT_STUB;
            booted = true;
            UnicornError error = engine.start(from);
            if (error != UnicornError.OK) {
                throw new IllegalStateException("raw guest stopped with " + error.cName());
            }
        }

        /** Checks the guest runs at CPL3 and finished a round of its loop (RCX counted down to 0). */
        void checkFinished() {
            long cs = engine.read(X86Register.CS);
            long rcx = engine.read(X86Register.RCX);
            if (cs != BootLayout.USER_CS || rcx != 0) {
                throw new IllegalStateException(String.format("raw guest: CS 0x%x (want 0x%x), RCX %d (want 0)", cs,
                        BootLayout.USER_CS, rcx));
            }
        }

        @Override
        public void close() {
            engine.close();
            memory.close();
        }
    }
}
