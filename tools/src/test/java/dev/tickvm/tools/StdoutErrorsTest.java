package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * A failed write to stdout is an error (issue 11.7): 'images > /dev/full' exited 0 having written
 * nothing, and a run whose reader went away ('| head -c 10') ran on to its end.
 */
@Isolated
class StdoutErrorsTest {
    private static final String GONE = "tickvm: could not write to stdout (a closed pipe or a full disk); the output is"
            + " incomplete";

    /** Runs tickvm with a stdout that fails every write, like a closed pipe; returns exit code and stderr lines. */
    private static Result runIntoClosedStdout(String... args) {
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long[] writes = new long[1];
        OutputStream closed = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                writes[0]++;
                throw new IOException("Broken pipe");
            }
        };
        try {
            System.setOut(new PrintStream(closed, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            // Without Main's one-time warning about a 2.1.1, which this call may be the first to print.
            return new Result(code, Cli.withoutStaleCodeWarning(err.toString(StandardCharsets.UTF_8)).lines().toList(),
                    writes[0]);
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    private record Result(int code, List<String> errLines, long writes) {
    }

    @Test
    void imagesIntoAClosedStdoutExits1AndSaysSo() {
        Result r = runIntoClosedStdout("images");
        assertEquals(1, r.code(), r::toString);
        assertEquals(List.of(GONE), r.errLines());
    }

    @Test
    void scenarioJsonIntoAClosedStdoutKeepsItsFailureCode() {
        Result r = runIntoClosedStdout("scenario", "../scenarios/cpuid.tvs", "--json");
        assertEquals(1, r.code(), r::toString);
        assertEquals(List.of(GONE), r.errLines());
    }

    /**
     * counter prints 200 lines and exits 0: into a closed stdout it stops at its first line's end
     * and exits 1 without a summary. The stream here is unbuffered, so each byte of that line,
     * "counter: vcpu 0 step 0\n", was one failed write, and nothing after it was tried.
     */
    @Test
    void aRunStopsAtTheFirstLineItCannotWrite() {
        Result r = runIntoClosedStdout("run", "--image", "counter");
        assertEquals(1, r.code(), r::toString);
        assertEquals(List.of(GONE), r.errLines());
        assertEquals("counter: vcpu 0 step 0\n".length(), r.writes(), "the guest's first line was the last write tried");
    }
}
