package dev.tickvm.bench;

import dev.tickvm.machine.Machine;
import dev.tickvm.machine.VmExit;
import dev.tickvm.trace.TraceFilter;
import dev.tickvm.trace.TraceRecord;
import dev.tickvm.trace.Tracer;
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
 * What the time trace (docs/TRACE.md) costs a trapped RDTSC: {@link TrapBench}'s PATCH loop with
 * the kvm layer ({@code KvmVcpu}) emulating the RDTSC instead of a bare counter, with tracing
 * off ({@link Tracer#OFF}: the hook is one branch) and on into a sink that counts and drops
 * every event (an event object and two host clock reads per trap, no formatting or output), and
 * on with every line formatted and dropped (what a trace costs before any I/O).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class TraceBench {
    static final int N = 200_000;

    @Param({"off", "null-sink", "lines"})
    public String tracing;

    private Machine machine;
    private long rounds;
    private long events;
    /** What the "lines" variant formatted, so that the JIT cannot drop the formatting. */
    public long chars;

    @Setup
    public void boot() {
        Tracer tracer = tracing.equals("off") ? Tracer.OFF : tracing.equals("lines")
                ? Tracer.lines(TraceFilter.ALL, line -> {
                    events++;
                    chars += line.length();
                })
                : new Tracer() {
            @Override
            public boolean enabled() {
                return true;
            }

            @Override
            public void record(TraceRecord record) {
                events++;
            }
        };
        machine = Guests.kvmMachine(Guests.rdtscLoop(N), tracer);
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public VmExit loopIteration() {
        VmExit exit = machine.run();
        if (!(exit instanceof VmExit.Paused)) {
            throw new IllegalStateException(tracing + ": " + exit.describe());
        }
        rounds++;
        return exit;
    }

    @TearDown
    public void check() {
        try {
            long traps = machine.vcpus().getFirst().traps();
            if (traps != rounds * N) {
                throw new IllegalStateException(tracing + ": " + traps + " traps in " + rounds + " rounds, want " + rounds * N);
            }
            if (tracing.equals("off") ? events != 0 : events < traps) {
                throw new IllegalStateException(tracing + ": " + events + " events for " + traps + " traps");
            }
        } finally {
            machine.close();
        }
    }
}
