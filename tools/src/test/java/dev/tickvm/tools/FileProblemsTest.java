package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reasons given for unusable input files (issue 11.10). The tests may run as root, where mode
 * 000 does not stop a read: the JDK's exception for a refused open is mapped here directly.
 */
class FileProblemsTest {

    @Test
    void aRefusedOpenSaysPermissionDeniedNotThePathAgain() {
        assertEquals("permission denied", FileProblems.reason(new AccessDeniedException("/x/y.tvs")));
        assertEquals("no such file", FileProblems.reason(new NoSuchFileException("/x/y.tvs")));
        assertEquals("Input/output error", FileProblems.reason(new IOException("Input/output error")));
    }

    @Test
    void whatAPathIsWhenItIsNotARegularFile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "x");
        assertNull(FileProblems.unreadable(file));
        assertEquals("no such file", FileProblems.unreadable(dir.resolve("missing")));
        assertEquals("not a regular file (a directory)", FileProblems.unreadable(dir));
        assertEquals("not a regular file (a character device)", FileProblems.unreadable(Path.of("/dev/null")));
    }
}
