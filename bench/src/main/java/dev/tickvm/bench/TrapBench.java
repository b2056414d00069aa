package dev.tickvm.bench;

import dev.tickvm.cpu.BlockHookKind;
import dev.tickvm.cpu.TrapMode;
import dev.tickvm.machine.Machine;
import dev.tickvm.machine.VmExit;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * The cost of one trapped RDTSC on a normal Machine (1 vCPU, the scheduler's block hook on). One
 * invocation runs {@value #N} iterations of {@code rdtsc; dec rcx; jnz} on a warm VM (see
 * {@link Guests}), so the score is the time of one loop iteration:
 *
 * <ul>
 * <li>PATCH: the first RDTSC faulted and was rewritten as INT n; every later one is emulated in
 *     the interrupt hook without leaving uc_emu_start (one upcall, plus one more block: the INT
 *     ends its block).
 * <li>FAULT: every RDTSC raises #GP, stops the engine and costs a uc_emu_start round trip.
 * <li>NOP: the same loop with a 2-byte NOP instead of the RDTSC, no trap: what to subtract from
 *     the two above to get the cost of the trap alone.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class TrapBench {
    static final int N = 200_000;

    @Param({"PATCH", "FAULT", "NOP", "PATCH-java", "NOP-java"})
    public String variant;

    private Machine machine;
    private long rounds;

    @Setup
    public void boot() {
        // The -java variants run on the Java block hook (the INT that a patched RDTSC becomes
        // ends its block, so each iteration has one more block, and one more hook call).
        BlockHookKind hook = variant.endsWith("-java") ? BlockHookKind.JAVA : BlockHookKind.NATIVE;
        String base = variant.replace("-java", "");
        machine = base.equals("NOP") ? Guests.machine(Guests.nopLoop(N), TrapMode.PATCH, hook)
                : Guests.machine(Guests.rdtscLoop(N), TrapMode.valueOf(base), hook);
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public VmExit loopIteration() {
        VmExit exit = machine.run();
        if (!(exit instanceof VmExit.Paused)) {
            throw new IllegalStateException(variant + ": " + exit.describe());
        }
        rounds++;
        return exit;
    }

    @TearDown
    public void check() {
        try {
            long traps = machine.vcpus().getFirst().traps();
            long expected = variant.startsWith("NOP") ? 0 : rounds * N;
            if (traps != expected) {
                throw new IllegalStateException(variant + ": " + traps + " traps in " + rounds + " rounds, want " + expected);
            }
        } finally {
            machine.close();
        }
    }
}
