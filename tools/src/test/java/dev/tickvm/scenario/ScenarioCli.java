package dev.tickvm.scenario;

import dev.tickvm.tools.Cli;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Runs {@code tickvm scenario ...} in this JVM through {@link Cli}, keeping blank lines. */
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
        Cli.Outcome o = Cli.run(args);
        return new Outcome(o.exitCode(), o.stdout(), o.stderr());
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
