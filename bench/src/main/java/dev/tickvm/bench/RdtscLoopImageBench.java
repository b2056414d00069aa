package dev.tickvm.bench;

import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The catalogue's rdtsc-loop image as `tickvm run --image rdtsc-loop` runs it (PATCH mode, block
 * hook on), per reading: 1,000,000 RDTSCs, each followed by the guest's own monotonicity check
 * (about 8 instructions and 3 blocks per reading), then a few lines of serial output (dropped: no
 * serial device). The real-guest figure next to TrapBench's minimal loop. Unlike the other
 * benchmarks, each invocation boots a fresh VM (the image exits): the first run of an engine
 * (about 1 ms) is in the score, i.e. about 1 ns per reading.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 4, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class RdtscLoopImageBench {
    static final int READINGS = 1_000_000;

    private final GuestImage image = GuestImages.require("rdtsc-loop");
    private Machine machine;
    private VmExit exit;

    @Setup(Level.Invocation)
    public void boot() {
        machine = Guests.machineThatExits(image.code());
    }

    @Benchmark
    @OperationsPerInvocation(READINGS)
    public VmExit reading() {
        exit = machine.run();
        return exit;
    }

    @TearDown(Level.Invocation)
    public void check() {
        try {
            long traps = machine.vcpus().getFirst().traps();
            if (!(exit instanceof VmExit.Exited e && e.code() == 0) || traps != READINGS) {
                throw new IllegalStateException("rdtsc-loop: " + exit + ", " + traps + " traps");
            }
        } finally {
            machine.close();
        }
    }
}
