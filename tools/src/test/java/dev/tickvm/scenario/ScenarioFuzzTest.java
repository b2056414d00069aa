package dev.tickvm.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tickvm.scenario.ScenarioReport.Status;
import dev.tickvm.scenario.ScenarioReport.StepReport;
import dev.tickvm.scenario.Statement.Step;
import dev.tickvm.unicorn.Unicorn;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Fuzz targets for scenario files. The parser: any bytes are refused as not text
 * ({@link NotTextException}) or parse to a {@link Scenario} or throw {@link ScenarioSyntaxException},
 * nothing else (no other RuntimeException, no StackOverflowError). The evaluator: a parsed
 * scenario runs to a report, and no step ends on an exception the runner did not expect (it names
 * those by their class). Plain ./test replays the inputs in ScenarioFuzzTestInputs/; JAZZER_FUZZ=1
 * fuzzes (docs/TESTING.md).
 */
class ScenarioFuzzTest {
    /** The runner's message for an unexpected RuntimeException: its toString, "java.lang.X: ...". */
    private static final Pattern BUG = Pattern.compile("^[a-z][a-z0-9_]*(\\.[A-Za-z0-9_$]+)+(Exception|Error)\\b.*",
            Pattern.DOTALL);
    private static final int MAX_STEPS_RUN = 40;

    private static Scenario parse(byte[] bytes) {
        String text;
        try {
            text = Scenario.decode(bytes);
        } catch (NotTextException e) {
            return null;
        }
        try {
            Scenario s = Scenario.parse("fuzz.tvs", text);
            assertNotNull(s);
            return s;
        } catch (ScenarioSyntaxException e) {
            assertNotNull(e.getMessage());
            return null;
        }
    }

    @FuzzTest(maxDuration = "60s")
    void parseReturnsAScenarioOrThrowsASyntaxError(byte[] bytes) {
        parse(bytes);
    }

    /**
     * Runs what parses, except what could run for long on fuzzed numbers: loops, guest runs and
     * snapshot files (save, restore, migrate), and scenarios of more than 40 steps.
     */
    @FuzzTest(maxDuration = "60s")
    void aParsedScenarioRunsToAReportWithoutAnUnexpectedException(byte[] bytes) {
        Scenario s = parse(bytes);
        if (s == null || s.steps().size() > MAX_STEPS_RUN || !s.steps().stream().allMatch(ScenarioFuzzTest::quick)) {
            return;
        }
        ScenarioReport report = new ScenarioRunner(Unicorn::get).run(s, r -> { });
        assertEquals(s.steps().size(), report.steps().size(), report::toString);
        List<StepReport> errors = report.steps().stream().filter(r -> r.status() == Status.ERROR).toList();
        for (StepReport r : errors) {
            assertFalse(r.message() == null || BUG.matcher(r.message()).matches(),
                    () -> "line " + r.line() + " '" + r.text() + "': " + r.message());
        }
    }

    private static boolean quick(Step step) {
        return !(step.statement() instanceof Statement.Loop || step.statement() instanceof Statement.RunGuest
                || step.statement() instanceof Statement.Save || step.statement() instanceof Statement.Restore
                || step.statement() instanceof Statement.Migrate);
    }
}
