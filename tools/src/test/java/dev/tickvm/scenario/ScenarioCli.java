package dev.tickvm.scenario;

import dev.tickvm.tools.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs {@code tickvm scenario ...} in this JVM through {@link Main#execute} and captures stdout
 * and stderr (picocli's writers are made from System.out/err when the command line is built, so
 * swapping them for the call captures everything; surefire runs the tests on one thread).
 */
final class ScenarioCli {
    record Outcome(int exitCode, String stdout, String stderr) {
        List<String> outLines() {
            return stdout.lines().toList();
        }

        List<String> errLines() {
            return stderr.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout:\n" + stdout + "--- stderr:\n" + stderr;
        }
    }

    private ScenarioCli() {
    }

    static Outcome run(String... args) {
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
        return new Outcome(code, stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
    }

    /** Writes {@code lines} to {@code dir/name} and runs it with the extra arguments. */
    static Outcome runText(Path dir, String name, String text, String... extra) {
        Path file = dir.resolve(name);
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String[] args = new String[extra.length + 2];
        args[0] = "scenario";
        args[1] = file.toString();
        System.arraycopy(extra, 0, args, 2, extra.length);
        return run(args);
    }
}
