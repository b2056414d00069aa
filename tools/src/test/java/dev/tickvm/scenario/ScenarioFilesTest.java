package dev.tickvm.scenario;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.scenario.ScenarioReport.Status;
import dev.tickvm.scenario.ScenarioReport.StepReport;
import dev.tickvm.unicorn.Unicorn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every shipped scenario in /scenarios passes, and the perturbed tsc_scaling_sync with the
 * selftest's own check (regressions == 0) fails: the check is real.
 */
class ScenarioFilesTest {
    /** The repository's scenarios, seen from the tools module (Maven runs tests there). */
    static final Path SCENARIOS = Path.of("..", "scenarios");
    static final String PERTURBED = "tsc_scaling_sync_perturbed.tvs";

    static Stream<Path> scenarioFiles() throws IOException {
        try (Stream<Path> files = Files.list(SCENARIOS)) {
            return files.filter(p -> p.toString().endsWith(".tvs")).sorted().toList().stream();
        }
    }

    private static ScenarioReport run(Scenario scenario) {
        return new ScenarioRunner(Unicorn::get).run(scenario, step -> { });
    }

    @Test
    void theDriftSeriesWritesItsCsv(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path copy = Files.copy(SCENARIOS.resolve("kvmclock_drift_series.tvs"), dir.resolve("series.tvs"));
        ScenarioReport report = run(Scenario.load(copy));
        List<String> rows = Files.readAllLines(dir.resolve("kvmclock_drift_series.csv"));
        assertAll(() -> assertTrue(report.ok()),
                () -> assertEquals(51, rows.size()),
                () -> assertEquals("true_ns,clock,host_ns,host_tsc", rows.getFirst()),
                () -> assertEquals("10000001272,10000002937,10000001272,29999998815", rows.getLast()));
    }

    @Test
    void theSelftestsAreAllThere() throws IOException {
        List<String> names = scenarioFiles().map(p -> p.getFileName().toString()).toList();
        assertTrue(names.containsAll(List.of("tsc_msrs_test.tvs", "system_counter_offset_test.tvs",
                "tsc_scaling_sync.tvs", PERTURBED, "kvm_clock_test.tvs", "kvmclock_drift.tvs", "kvmclock_monotonic.tvs",
                "kvmclock_pvclock_page.tvs", "kvmclock_pause.tvs")), names.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarioFiles")
    void passes(Path file, @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        List<String> lines = Files.readAllLines(file);
        assertTrue(lines.getFirst().startsWith("# ") && lines.get(1).startsWith("#"),
                file + " starts with a header comment saying what it proves");
        // Run from a copy, so that what a scenario writes next to itself (sample's CSV) stays out of the tree.
        Path copy = Files.copy(file, dir.resolve(file.getFileName()));
        ScenarioReport report = run(Scenario.load(copy));
        List<StepReport> bad = report.steps().stream()
                .filter(s -> s.status() == Status.FAIL || s.status() == Status.ERROR).toList();
        assertAll(file.toString(),
                () -> assertEquals(List.of(), bad),
                () -> assertTrue(report.ok()),
                () -> assertEquals(0, report.failed()),
                () -> assertTrue(report.passed() > 0),
                () -> assertTrue(report.steps().stream().noneMatch(s -> s.status() == Status.NOT_RUN)));
    }

    /**
     * The issue's check: with one vCPU's offset perturbed, the selftest's assertion (no
     * regressions) must fail and report the regressions.
     */
    @Test
    void thePerturbedSyncFailsTheSelftestsCheck() throws Exception {
        Path file = SCENARIOS.resolve(PERTURBED);
        String text = Files.readString(file);
        String shipped = "\nexpect regressions > 0\n";
        assertEquals(1, text.split(shipped, -1).length - 1, "exactly one '" + shipped.strip() + "' line");
        String selftestCheck = text.replace(shipped, "\nexpect regressions == 0\n");
        ScenarioReport report = run(Scenario.parse(file + " (with the selftest's check)", selftestCheck));
        StepReport check = report.steps().stream().filter(s -> s.text().equals("expect regressions == 0")).findFirst()
                .orElseThrow();
        StepReport sync = report.steps().stream().filter(s -> s.text().startsWith("guest all sync")).findFirst()
                .orElseThrow();
        long regressions = sync.results().get("regressions");
        assertAll(
                () -> assertFalse(report.ok()),
                () -> assertEquals(1, report.exitCode()),
                () -> assertEquals(Status.FAIL, check.status()),
                () -> assertEquals(List.of(regressions, 0L), check.values()),
                () -> assertTrue(regressions > 0, "regressions reported: " + regressions),
                () -> assertEquals(1, report.failed(), "only the selftest's check fails"),
                () -> assertEquals(report.summary(), report.passed() + " passed, 1 failed"));
    }
}
