package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11.3: a guest storing into its own code killed the JVM with SIGSEGV in Unicorn's
 * tb_set_jmp_target after about 4.5 million blocks, when the 1 GiB translation buffer filled.
 * Here the buffer is 64 MiB, which the same loop filled within its first 270,000 blocks (the
 * same SIGSEGV then; with 16 MiB the child hung instead); Vcpu's periodic flush must carry it
 * to its budget. In a child JVM, since the failure mode kills the process.
 */
class SelfModifyingGuestProcessTest {
    /** mov byte [rip+1], 0xf7 (rewrites the jump's own displacement, same value); jmp back. */
    private static final String LOOP = "c60501000000f7ebf7";
    private static final int BUFFER_BYTES = 64 << 20;
    private static final long BUDGET = 1_000_000;

    @TempDir
    Path dir;

    @Test
    void aLoopRewritingItsOwnCodeRunsToItsBudget() throws Exception {
        Path image = Files.write(dir.resolve("smc.bin"), HexFormat.of().parseHex(LOOP));
        ChildJvm.Outcome o = ChildJvm.run(dir, List.of("-Dtickvm.test.translationBufferBytes=" + BUFFER_BYTES),
                Main.class.getName(), "run", "--image", image.toString(), "--budget", Long.toString(BUDGET));
        List<String> lines = o.errLines();
        assertAll(o.toString(),
                () -> assertEquals(5, o.exitCode(), "the budget's exit code"),
                () -> assertTrue(lines.getLast().startsWith("tickvm: smc.bin: guest ran 1,000,000 blocks without"
                        + " stopping (the budget)"), lines.getLast()));
    }
}
