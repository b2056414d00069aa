package dev.tickvm.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tickvm.cpu.BlockHookKind;
import dev.tickvm.cpu.NativeBlockHook;
import dev.tickvm.unicorn.Unicorn;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shipped scenarios that run guests give bit-identical reports under the native block hook
 * and the Java one (issue 12): every step's values, messages and host clock; only the wall time
 * differs.
 */
class ScenarioBlockHookTest {

    private static ScenarioReport run(Path file, Path dir, BlockHookKind kind) throws Exception {
        String old = System.getProperty(BlockHookKind.PROPERTY);
        System.setProperty(BlockHookKind.PROPERTY, kind.name().toLowerCase(java.util.Locale.ROOT));
        try {
            Path copy = Files.copy(file, dir.resolve(kind + "-" + file.getFileName()));
            ScenarioReport r = new ScenarioRunner(Unicorn::get).run(Scenario.load(copy), step -> { });
            // Without the wall time and the file name, which differ by design.
            return new ScenarioReport("", r.ok(), r.passed(), r.failed(), r.syntaxErrors(), r.stoppedAt(), r.steps(), 0);
        } finally {
            if (old == null) {
                System.clearProperty(BlockHookKind.PROPERTY);
            } else {
                System.setProperty(BlockHookKind.PROPERTY, old);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"guest_watch.tvs", "tsc_scaling_sync.tvs", "snapshot_restore.tvs", "migration.tvs",
        "kvmclock_pvclock_page.tvs"})
    void aScenarioReportsTheSameUnderEitherHook(String name, @TempDir Path dir) throws Exception {
        assumeTrue(NativeBlockHook.available(), NativeBlockHook.problem());
        Path file = ScenarioFilesTest.SCENARIOS.resolve(name);
        ScenarioReport java = run(file, dir, BlockHookKind.JAVA);
        ScenarioReport nativeHook = run(file, dir, BlockHookKind.NATIVE);
        assertTrue(java.ok(), java.summary());
        assertEquals(java, nativeHook);
    }
}
