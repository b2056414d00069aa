package dev.tickvm.bench;

import dev.tickvm.cpu.BlockHookKind;
import dev.tickvm.cpu.TrapMode;
import dev.tickvm.machine.Machine;
import dev.tickvm.machine.VmExit;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Guest instructions per second for a plain register loop ({@code dec rcx; jnz}: 2 instructions
 * and one translated block per iteration; {@value #ITERATIONS} iterations per invocation, on a
 * warm VM, see {@link Guests}):
 *
 * <ul>
 * <li>machine: a normal 1-vCPU Machine, the vCPU scheduler on: Unicorn calls tickvm's native
 *     block hook before every block, and the vCPU leaves uc_emu_start every quantum (10,000
 *     blocks) to let the scheduler run.
 * <li>machine-java: the same with the Java fallback hook, an FFM upcall per block.
 * <li>raw: a bare Engine with the same RAM, GDT and CPL3 entry and no block hook: Unicorn's own
 *     speed, the ceiling; the scheduler off.
 * <li>raw+empty-hook: the bare Engine plus a block hook that does nothing: the price of the
 *     upcall itself, apart from what tickvm's hook does in it.
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class GuestSpeedBench {
    static final int ITERATIONS = 10_000_000;
    static final int INSTRUCTIONS = 2 * ITERATIONS;

    @Param({"machine", "machine-java", "raw", "raw+empty-hook"})
    public String setup;

    private Guests.RawEngine raw;
    private Machine machine;

    @Setup
    public void boot() {
        byte[] code = Guests.registerLoop(ITERATIONS);
        if (setup.equals("machine")) {
            machine = Guests.machine(code, TrapMode.PATCH, BlockHookKind.NATIVE);
        } else if (setup.equals("machine-java")) {
            machine = Guests.machine(code, TrapMode.PATCH, BlockHookKind.JAVA);
        } else {
            raw = new Guests.RawEngine(code);
            if (setup.equals("raw+empty-hook")) {
                raw.engine.onBlock((address, size) -> {
                });
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(INSTRUCTIONS)
    public Object instructions() {
        if (machine != null) {
            VmExit exit = machine.run();
            if (!(exit instanceof VmExit.Paused)) {
                throw new IllegalStateException("machine: " + exit.describe());
            }
            return exit;
        }
        raw.start();
        return raw;
    }

    /** Cheap enough per iteration, not per invocation: the raw guest must have looped at CPL3. */
    @TearDown(Level.Iteration)
    public void check() {
        if (raw != null) {
            raw.checkFinished();
        }
    }

    @TearDown
    public void close() {
        if (machine != null) {
            machine.close();
        }
        if (raw != null) {
            raw.close();
        }
    }
}
