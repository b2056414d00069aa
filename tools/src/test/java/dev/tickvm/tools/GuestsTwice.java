package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
import dev.tickvm.machine.VmExit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the seeded guest runs (RandomGuestTest, StructuredGuestTest) share: each guest runs twice
 * in-process through GuestRun, must end with a typed exit (exited, all halted, faulted or out of
 * budget) without an exception, and the second run must give the same exit, blocks, traps, host
 * time and serial bytes; nothing may reach System.err in the whole run; the count of each exit
 * kind is printed at the end.
 */
final class GuestsTwice {
    /** What one run of a guest gave. */
    record Outcome(VmExit exit, long blocks, long traps, long hostNanos, byte[] serial) {
    }

    /** The guests of a run, by index: each runs its guest with {@link #twice} and returns the outcome. */
    interface Guests {
        Outcome run(int index) throws Exception;
    }

    private GuestsTwice() {
    }

    /**
     * Runs guests 0 .. count-1 with System.err captured, asserts that nothing was written to it,
     * and prints "{@code test}: N images, each run twice, in S s: {kind=count, ...}". Returns the
     * count of each exit kind.
     */
    static Map<String, Integer> runAll(String test, int count, Guests guests) throws Exception {
        Map<String, Integer> kinds = new TreeMap<>();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        PrintStream realErr = System.err;
        long start = System.nanoTime();
        try {
            System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
            for (int i = 0; i < count; i++) {
                kinds.merge(guests.run(i).exit().getClass().getSimpleName(), 1, Integer::sum);
            }
        } finally {
            System.setErr(realErr);
        }
        // Main.unicorn() warns once per process about a 2.1.1; this may be the first call.
        assertEquals("", Cli.withoutStaleCodeWarning(stderr.toString(StandardCharsets.UTF_8)), "nothing on System.err");
        System.out.printf("%s: %d images, each run twice, in %.1f s: %s%n", test, count,
                (System.nanoTime() - start) / 1e9, kinds);
        return kinds;
    }

    /** A flat image of {@code code}, written to {@code dir}/{@code name} and loaded as {@code tickvm run --image-file} does. */
    static GuestImage image(Path dir, String name, byte[] code) throws IOException {
        return GuestImages.fromFile(Files.write(dir.resolve(name), code));
    }

    /**
     * Runs {@code run} twice (each run boots a fresh VM on a fresh virtual clock) and asserts a
     * typed exit within {@code budget} blocks, the same both times; {@code what} names the guest
     * in a failure. Returns the first run's outcome.
     */
    static Outcome twice(GuestRun run, long budget, String what) {
        Outcome first = once(run, what);
        Outcome second = once(run, what);
        assertEquals(first.exit(), second.exit(), what);
        assertEquals(first.blocks(), second.blocks(), what);
        assertEquals(first.traps(), second.traps(), what);
        assertEquals(first.hostNanos(), second.hostNanos(), what);
        assertArrayEquals(first.serial(), second.serial(), what);
        assertTrue(first.blocks() <= budget, what);
        return first;
    }

    private static Outcome once(GuestRun run, String what) {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        GuestRun.Result r;
        try {
            r = run.run(serial::write);
        } catch (Throwable t) {
            throw new AssertionError(what + ": threw " + t, t);
        }
        switch (r.exit()) {
            case VmExit.Exited e -> { }
            case VmExit.AllHalted h -> { }
            case VmExit.Faulted f -> { }
            case VmExit.BudgetExhausted b -> { }
            default -> fail(what + ": ended with " + r.exit());
        }
        return new Outcome(r.exit(), r.blocks(), r.traps(), r.hostNanos(), serial.toByteArray());
    }
}
