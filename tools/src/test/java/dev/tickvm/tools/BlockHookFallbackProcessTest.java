package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.cpu.NativeBlockHook;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the native block hook cannot load, tickvm falls back to the Java hook by itself, says so
 * once on stderr, and the guest runs the same (issue 12); asking for the native hook then is a
 * clear error. The hook is made unavailable by pointing its library at a file that is not there.
 */
class BlockHookFallbackProcessTest {
    @TempDir
    Path dir;

    private List<String> missingLibrary() {
        return List.of("-D" + NativeBlockHook.LIBRARY_PROPERTY + "=" + dir.resolve("none.so"));
    }

    @Test
    void withoutTheNativeHookAGuestRunsOnTheJavaOneWithANote() {
        ChildJvm.Outcome normal = ChildJvm.run(dir, Main.class.getName(), "run", "--image", "hello");
        ChildJvm.Outcome fallback = ChildJvm.run(dir, missingLibrary(), Main.class.getName(), "run", "--image", "hello");
        List<String> err = fallback.errLines();
        assertAll(fallback.toString(),
                () -> assertEquals(0, fallback.exitCode()),
                () -> assertEquals(normal.stdout(), fallback.stdout(), "the same serial output"),
                () -> assertEquals("tickvm: note: the native block hook is unavailable (" + NativeBlockHook.LIBRARY_PROPERTY
                        + "=" + dir.resolve("none.so") + ": no such file): guests run on the Java one, about ten times"
                        + " slower", err.getFirst()),
                // The summary line is the same but for the wall time.
                () -> assertEquals(normal.errLines().getLast().replaceAll("wall [0-9.]+ m?s", "wall"),
                        err.getLast().replaceAll("wall [0-9.]+ m?s", "wall")));
    }

    @Test
    void versionNamesTheFallbackAndItsReason() {
        ChildJvm.Outcome o = ChildJvm.run(dir, missingLibrary(), Main.class.getName(), "--version");
        assertTrue(o.stdout().contains("Block hook: Java (the native one is unavailable: "), o.toString());
    }

    @Test
    void askingForTheNativeHookWhenItIsMissingIsBadUsage() {
        ChildJvm.Outcome o = ChildJvm.run(dir, Map.of("TICKVM_BLOCK_HOOK", "native"), missingLibrary(),
                Main.class.getName(), "run", "--image", "hello");
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertTrue(o.errLines().getLast().startsWith(
                        "tickvm: TICKVM_BLOCK_HOOK=native, but the native block hook is not available: "),
                        o.errLines().getLast()));
    }
}
