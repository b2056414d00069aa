package dev.tickvm.tools;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Runs the tickvm command line in this JVM through {@link Main#execute}, the real entry point
 * minus System.exit, and captures what a user would see on stdout and stderr. picocli's out and
 * err default to System.out/err when a CommandLine is made, and the run and images commands
 * write to System.out/err directly (guest serial output, run summaries), so swapping System.out
 * and System.err for the call captures everything. They are always restored; surefire runs
 * these tests on one thread, so nothing else writes to them meanwhile.
 */
public final class Cli {
    /** What one command line did. */
    public record Outcome(int exitCode, String stdout, String stderr) {
        /**
         * The non-blank lines of stderr, without the one-time warning a Unicorn 2.0.x adds
         * (so the same assertions hold on 2.0.1 and 2.1.x).
         */
        List<String> errLines() {
            return stderr.lines().filter(l -> !l.isBlank())
                    .filter(l -> !(l.startsWith("tickvm: warning: Unicorn 2.0") && l.contains("known defects"))).toList();
        }

        /** The non-blank lines of stdout. */
        List<String> outLines() {
            return stdout.lines().filter(l -> !l.isBlank()).toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout:\n" + stdout + "--- stderr:\n" + stderr;
        }
    }

    private Cli() {
    }

    public static Outcome run(String... args) {
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        int code;
        try {
            System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
            code = Main.execute(args);
        } finally {
            System.out.flush();
            System.err.flush();
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
        return new Outcome(code, stdout.toString(StandardCharsets.UTF_8),
                withoutStaleCodeWarning(stderr.toString(StandardCharsets.UTF_8)));
    }

    /**
     * Stderr without the one-time warning that Main prints for a Unicorn 2.1.0 or 2.1.1 (it
     * misses some self-modifying code), so that the same assertions hold on 2.1.1 and 2.1.4;
     * MainDefectWarningTest checks that warning itself.
     */
    static String withoutStaleCodeWarning(String stderr) {
        if (stderr.lines().noneMatch(Cli::isStaleCodeWarning)) {
            return stderr;
        }
        return stderr.lines().filter(l -> !isStaleCodeWarning(l)).map(l -> l + "\n")
                .collect(java.util.stream.Collectors.joining());
    }

    static boolean isStaleCodeWarning(String line) {
        return line.startsWith("tickvm: warning: Unicorn 2.1.") && line.contains("misses some self-modifying code");
    }
}
