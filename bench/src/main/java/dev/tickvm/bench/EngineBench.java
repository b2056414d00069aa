package dev.tickvm.bench;

import dev.tickvm.unicorn.UnicornError;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Raw uc_emu_start round trips on a bare Engine (no block hook), the unit of cost of every
 * FAULT-mode trap and every scheduler quantum:
 *
 * <ul>
 * <li>emptyStart: uc_emu_start at address 0, which is also its "until" address, so Unicorn returns
 *     without running a guest instruction: the fixed cost of entering and leaving the engine
 *     (the FFM downcall included).
 * <li>outAndStop: uc_emu_start at an {@code out 0xf4, eax} whose port hook stops the engine: one
 *     block, one upcall and the stop, i.e. the shortest round trip that runs guest code.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class EngineBench {
    /** Where the single OUT sits, past the exit tail of the loop guest. */
    private static final long OUT_AT = Guests.LOAD + 0x100;

    private Guests.RawEngine raw;

    @Setup
    public void open() {
        raw = new Guests.RawEngine(Guests.registerLoop(1));
        raw.start(); // now at CPL3
        raw.checkFinished();
        raw.memory.write(OUT_AT, HexFormat.of().parseHex("e7f4ebfe")); // out 0xf4, eax; jmp $
        check(emptyStart(), 0);
        check(outAndStop(), OUT_AT + 2);
    }

    private void check(UnicornError error, long rip) {
        long at = raw.engine.read(dev.tickvm.unicorn.X86Register.RIP);
        if (error != UnicornError.OK || at != rip) {
            throw new IllegalStateException("uc_emu_start: " + error + " at RIP 0x" + Long.toHexString(at)
                    + ", want OK at 0x" + Long.toHexString(rip));
        }
    }

    @Benchmark
    public UnicornError emptyStart() {
        return raw.engine.start(0);
    }

    @Benchmark
    public UnicornError outAndStop() {
        return raw.engine.start(OUT_AT);
    }

    @TearDown
    public void close() {
        raw.close();
    }
}
