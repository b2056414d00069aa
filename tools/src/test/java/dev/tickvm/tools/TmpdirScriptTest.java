package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * scripts/env.sh, which ./tickvm and ./test source before their first mktemp (issue 11.10): a
 * TMPDIR that is no writable directory stopped them there ("mktemp: failed to create file via
 * template '/nonexistent/tickvm-crash.XXXXXX'"); now /tmp takes its place.
 */
class TmpdirScriptTest {

    private static Path envScript() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path script = dir.resolve("scripts/env.sh");
            if (Files.isRegularFile(script)) {
                return script;
            }
        }
        throw new AssertionError("no scripts/env.sh above " + Path.of("").toAbsolutePath());
    }

    /** Sources env.sh with this TMPDIR, then does what ./tickvm does next: mktemp. */
    private static String sourceAndMktemp(String tmpdir) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c",
                "source \"$1\" >/dev/null 2>&1 || exit 9; f=$(mktemp \"${TMPDIR:-/tmp}/tickvm-test.XXXXXX\") || exit 8;"
                        + " rm -f \"$f\"; echo \"$TMPDIR\"", "bash", envScript().toString());
        pb.environment().put("TMPDIR", tmpdir);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bash still running after 60 s");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"/nonexistent/tickvm-tmp", "/dev/null"})
    void aTmpdirThatIsNoDirectoryFallsBackToTmp(String tmpdir) throws Exception {
        assertEquals("/tmp", sourceAndMktemp(tmpdir));
    }

    @Test
    void aGoodTmpdirIsKept(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertEquals(dir.toString(), sourceAndMktemp(dir.toString()));
    }
}
