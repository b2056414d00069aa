package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ./tickvm when the JVM dies inside native code (issue 11.3). The wrapper's tickvm_run_jvm runs
 * {@link NativeCrashMain}, a JVM that dies from a SIGSEGV in libc as tickvm's does in Unicorn:
 * HotSpot's banner went to stdout (mixed with serial or JSON output), its hs_err_pid*.log landed
 * in the current directory, the wrapper named the abort() that follows rather than the SIGSEGV,
 * and crash records (tickvm-crash.*) of a wrapper killed with SIGKILL stayed behind for good.
 */
class NativeCrashScriptTest {
    @TempDir
    Path cwd;
    @TempDir
    Path cache;

    private static Path tickvmScript() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path script = dir.resolve("tickvm");
            if (Files.isRegularFile(script) && Files.isRegularFile(dir.resolve("scripts/env.sh"))) {
                return script;
            }
        }
        throw new AssertionError("no ./tickvm above " + Path.of("").toAbsolutePath());
    }

    /** Sources ./tickvm (which only defines its functions) and runs tickvm_run_jvm JVM-ARGS. */
    private ChildJvm.Outcome runJvm(String... jvmArgs) throws IOException, InterruptedException {
        return runJvm(cache, jvmArgs);
    }

    private ChildJvm.Outcome runJvm(Path cache, String... jvmArgs) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("bash", "-c",
                "source \"$1\"; shift; tickvm_run_jvm \"$@\"", "bash", tickvmScript().toString()));
        command.addAll(List.of(jvmArgs));
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("TICKVM_CACHE", cache.toString());
        pb.environment().remove("TICKVM_JAVA_OPTS");
        pb.environment().remove("TICKVM_CRASH_FILE");
        Path out = cwd.resolve("child.out");
        Path err = cwd.resolve("child.err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(ChildJvm.HANG_GUARD_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            throw new AssertionError("tickvm_run_jvm still running after " + ChildJvm.HANG_GUARD_SECONDS + " s");
        }
        ChildJvm.Outcome o = new ChildJvm.Outcome(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
        Files.delete(out);
        Files.delete(err);
        return o;
    }

    private static List<String> names(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aNativeFaultIsNamedOnStderrWithItsLogUnderTheCache() throws Exception {
        ChildJvm.Outcome o = runJvm("-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                NativeCrashMain.class.getName());
        Path crashDir = cache.resolve("crash");
        List<String> logs = names(crashDir).stream().filter(n -> n.startsWith("hs_err_pid")).toList();
        List<String> lines = o.errLines();
        String last = lines.isEmpty() ? "" : lines.getLast();
        assertAll(o.toString(),
                // HotSpot's handler ends in abort(): the status says SIGABRT, the log says SIGSEGV.
                () -> assertEquals(134, o.exitCode()),
                () -> assertEquals("guest output before the crash\n", o.stdout()),
                () -> assertEquals(List.of(), names(cwd), "files left in the working directory"),
                () -> assertEquals(1, logs.size(), "hs_err logs under the cache: " + names(crashDir)),
                () -> assertTrue(o.stderr().contains("A fatal error has been detected"), "banner on stderr"),
                () -> assertTrue(last.startsWith("tickvm: the VM process died from signal SIGSEGV (native fault in"
                        + " libc.so.6"), last),
                () -> assertTrue(last.contains("test engine); last guest RIP 0x100000 on vCPU 2; JVM crash log "
                        + crashDir.resolve(logs.isEmpty() ? "?" : logs.getFirst())), last),
                () -> assertEquals(List.of(), names(crashDir).stream().filter(n -> n.startsWith("tickvm-crash."))
                        .toList(), "crash records left behind"));
    }

    @Test
    void staleCrashRecordsOfDeadWrappersAreRemoved() throws Exception {
        Path crashDir = Files.createDirectories(cache.resolve("crash"));
        long alive = ProcessHandle.current().pid();
        // A wrapper killed with SIGKILL leaves its record; pids never reach 999999999 on Linux.
        Files.write(crashDir.resolve("tickvm-crash.999999999"), new byte[256]);
        Files.write(crashDir.resolve("tickvm-crash." + alive), new byte[256]);
        Files.writeString(crashDir.resolve("hs_err_pid1-tickvm2.log"), "kept: evidence\n");
        ChildJvm.Outcome o = runJvm("-version");
        assertAll(o.toString(),
                () -> assertEquals(0, o.exitCode()),
                () -> assertEquals(List.of("hs_err_pid1-tickvm2.log", "tickvm-crash." + alive), names(crashDir)),
                () -> assertFalse(o.stderr().contains("tickvm:"), o.stderr()));
    }

    /** A cache directory that cannot be created (here: a file) must not add bash errors to the run. */
    @Test
    void anUnwritableCacheIsQuiet() throws Exception {
        Path file = Files.writeString(cache.resolve("not-a-directory"), "");
        ChildJvm.Outcome o = runJvm(file, "-version");
        assertAll(o.toString(),
                () -> assertEquals(0, o.exitCode()),
                () -> assertFalse(o.stderr().contains("Not a directory"), "bash's complaint"),
                () -> assertFalse(o.stderr().contains("tickvm"), "a report"));
    }
}
