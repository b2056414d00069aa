package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.fail;

import dev.tickvm.unicorn.Unicorn;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the test classpath in a child JVM, for guests that may take the whole
 * process down (a native abort inside Unicorn cannot be caught, and would kill surefire's fork)
 * and for state that must not leak into the test JVM. The child gets the same JDK, classpath and
 * TICKVM_UNICORN_LIB as this JVM; its stdout and stderr go to files in {@code dir}, which is also
 * its working directory (where any crash file would land).
 */
final class ChildJvm {
    /** Only a guard against hangs: every child here ends in well under a second or two. */
    static final long HANG_GUARD_SECONDS = 60;

    /** How the child ended. */
    record Outcome(int exitCode, String stdout, String stderr) {
        List<String> errLines() {
            return stderr.lines().filter(l -> !l.isBlank()).toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout:\n" + stdout + "--- stderr:\n" + stderr;
        }
    }

    private ChildJvm() {
    }

    /** {@code java ... dev.tickvm.tools.Main args}. */
    static Outcome tickvm(Path dir, String... args) {
        return run(dir, Main.class.getName(), args);
    }

    static Outcome run(Path dir, String mainClass, String... args) {
        return run(dir, List.of(), mainClass, args);
    }

    /** With extra JVM options (system properties, say) before the main class. */
    static Outcome run(Path dir, List<String> jvmOptions, String mainClass, String... args) {
        return run(dir, java.util.Map.of(), jvmOptions, mainClass, args);
    }

    /** With extra environment variables too. */
    static Outcome run(Path dir, java.util.Map<String, String> env, List<String> jvmOptions, String mainClass,
            String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                // Short-lived: start fast, and never write a core or hs_err file outside dir.
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto", "-XX:-CreateCoredumpOnCrash",
                "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"),
                "-cp", System.getProperty("java.class.path")));
        command.addAll(jvmOptions);
        command.add(mainClass);
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        String library = System.getenv(Unicorn.LIBRARY_ENV);
        if (library != null) {
            pb.environment().put(Unicorn.LIBRARY_ENV, library);
        }
        pb.environment().putAll(env);
        Path out = dir.resolve("child.out");
        Path err = dir.resolve("child.err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        try {
            Process p = pb.start();
            if (!p.waitFor(HANG_GUARD_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                fail("child JVM still running after " + HANG_GUARD_SECONDS + " s: " + String.join(" ", args)
                        + "\n--- stdout:\n" + Files.readString(out) + "--- stderr:\n" + Files.readString(err));
            }
            // Without Main's warning about a 2.1.1 (see Cli.withoutStaleCodeWarning).
            return new Outcome(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Cli.withoutStaleCodeWarning(Files.readString(err, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
