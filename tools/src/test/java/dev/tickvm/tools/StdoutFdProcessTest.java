package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM that inherits ./tickvm's TICKVM_STDOUT_FD without the descriptor (the demo's restoring
 * child did) keeps its own stdout: its output was lost and it exited 1.
 */
class StdoutFdProcessTest {

    @Test
    void aDescriptorThatIsNotOpenIsIgnored(@TempDir Path dir) {
        ChildJvm.Outcome o = ChildJvm.run(dir, Map.of(StdoutFd.ENV, "9"), List.of(), Main.class.getName(), "images");
        assertEquals(0, o.exitCode(), o::toString);
        assertTrue(o.stdout().startsWith("NAME "), o::toString);
        assertEquals("", o.stderr());
    }
}
