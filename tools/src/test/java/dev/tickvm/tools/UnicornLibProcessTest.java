package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --unicorn-lib naming a file that is no shared library (issue 11.10), in a child JVM: the two
 * "might have disabled stack guard" warnings came from the JVM itself, on its native stderr, which
 * only another process can capture.
 */
class UnicornLibProcessTest {
    @TempDir
    Path dir;

    @Test
    void aNonElfLibraryIsOneLineWithoutJvmWarnings() throws IOException {
        Path hostname = Files.writeString(dir.resolve("hostname"), "box\n");
        ChildJvm.Outcome o = ChildJvm.tickvm(dir, "--unicorn-lib=" + hostname, "run", "--image", "hello");
        assertAll(o.toString(),
                () -> assertEquals(1, o.exitCode()),
                () -> assertEquals(List.of("tickvm: cannot load Unicorn: " + hostname + " is not a shared library (no ELF"
                        + " header); install Unicorn 2.1.x (./tickvm does) or point TICKVM_UNICORN_LIB or --unicorn-lib"
                        + " at libunicorn.so.2"), o.errLines()),
                () -> assertEquals("", o.stdout()));
    }
}
