package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.unicorn.UnicornVersion;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-line warning Main prints once for a Unicorn with known defects, and for no other. */
class MainDefectWarningTest {

    @TempDir
    Path dir;

    @Test
    void a2Dot1Dot0Or2Dot1Dot1IsWarnedAboutTheSelfModifyingCodeItMisses() {
        for (UnicornVersion v : List.of(new UnicornVersion(2, 1, 0), new UnicornVersion(2, 1, 1))) {
            String warning = Main.defectWarning(v, "Unicorn " + v + " (x.so)");
            assertEquals("tickvm: warning: Unicorn " + v + " (x.so) misses some self-modifying code: a store into"
                    + " translated code after another store to its page; ./tickvm installs 2.1.4", warning);
            assertTrue(Cli.isStaleCodeWarning(warning), "the tests' filter knows it");
        }
    }

    @Test
    void a2Dot0IsWarnedAboutItsAbortsAndLaterVersionsAreNot() {
        assertTrue(Main.defectWarning(new UnicornVersion(2, 0, 1), "Unicorn 2.0.1 (x.so)")
                .startsWith("tickvm: warning: Unicorn 2.0.1 (x.so) has known defects: it can abort the whole process"));
        assertNull(Main.defectWarning(new UnicornVersion(2, 1, 2), "Unicorn 2.1.2"));
        assertNull(Main.defectWarning(new UnicornVersion(2, 1, 4), "Unicorn 2.1.4"));
    }

    /** A child JVM, where nothing has warned yet: the warning is its first line on stderr, once. */
    @Test
    void theLoadedLibrarysWarningIsPrintedOnceFirst() throws Exception {
        Unicorn u = Unicorn.get();
        String expected = Main.defectWarning(u.version(), u.describe());
        java.util.List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "run", "--image", "hello");
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        String stderr = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.waitFor();
        List<String> lines = stderr.lines().filter(l -> l.startsWith("tickvm: warning: Unicorn")).toList();
        assertEquals(expected == null ? List.of() : List.of(expected), lines, stderr);
    }
}
