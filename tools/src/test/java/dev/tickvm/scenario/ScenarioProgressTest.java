package dev.tickvm.scenario;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.scenario.ScenarioReport.StepReport;
import dev.tickvm.tools.WorkProgress;
import dev.tickvm.unicorn.Unicorn;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scenario's progress, forced with a clock that moves a second on every reading and no
 * threshold, so every place that reports shows a line: what the lines say, and that the run and
 * its report are the same with them as without.
 */
class ScenarioProgressTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private static final String SCENARIO = """
            vm vcpus=1
            let n = 2
            repeat n {
              guest 0 spin 1000 -> a b
            }
            guest 0 spin 100_000 -> c d
            """;

    private static List<String> run(WorkProgress progress, List<String> stdout) throws ScenarioSyntaxException {
        ScenarioReport report = new ScenarioRunner(Unicorn::get).progress(progress)
                .run(Scenario.parse("t.tvs", SCENARIO), step -> stdout.add(ReportWriter.line(step)));
        List<String> all = new ArrayList<>(stdout);
        all.addAll(ReportWriter.footer(report).stream().map(l -> l.replaceAll(" in [0-9.,]+ [mun]?s", "")).toList());
        return all;
    }

    @Test
    void eachStepOfTheFileNamesItselfAndALoopCountsItsIterations() throws Exception {
        List<String> lines = new ArrayList<>();
        long[] now = {0};
        List<String> withProgress = run(WorkProgress.lines(lines::add, () -> now[0] += SECOND, 0, SECOND),
                new ArrayList<>());
        List<String> without = run(WorkProgress.OFF, new ArrayList<>());
        assertAll(
                () -> assertEquals(without, withProgress, "the run's report"),
                () -> assertEquals(List.of(
                        "tickvm: t.tvs:1: vm vcpus=1: 0 guest blocks, wall 1 s",
                        "tickvm: t.tvs:2: let n = 2: 0 guest blocks, true time 54 ns, wall 1 s",
                        "tickvm: t.tvs:3: repeat n: 0 guest blocks, true time 54 ns, wall 1 s",
                        "tickvm: t.tvs:3: repeat n: 0 of 2 iterations (0%), line 4: [#1] guest 0 spin 1000 -> a b, wall 2 s",
                        "tickvm: t.tvs:3: repeat n: 0 of 2 iterations (0%), line 4: [#1] guest 0 spin 1000 -> a b, wall 3 s",
                        "tickvm: t.tvs:3: repeat n: 1 of 2 iterations (50%), line 4: [#2] guest 0 spin 1000 -> a b, wall 4 s",
                        "tickvm: t.tvs:3: repeat n: 1 of 2 iterations (50%), line 4: [#2] guest 0 spin 1000 -> a b, wall 5 s",
                        "tickvm: t.tvs:3: repeat n: 1 of 2 iterations (50%), line 4: [#2] guest 0 spin 1000 -> a b, wall 6 s",
                        "tickvm: t.tvs:6: guest 0 spin 100_000 -> c d: 0 guest blocks, true time 1,090 ns, wall 1 s",
                        "tickvm: t.tvs:6: guest 0 spin 100_000 -> c d: 1 guest block, true time 1,142 ns, wall 2 s",
                        "tickvm: t.tvs:6: guest 0 spin 100_000 -> c d: 1,244 guest blocks, true time 34,628 ns, wall 3 s"),
                        lines));
    }

    @Test
    void aSampleCountsItsRows(@TempDir Path dir) throws Exception {
        List<String> lines = new ArrayList<>();
        long[] now = {0};
        WorkProgress progress = WorkProgress.lines(lines::add, () -> now[0] += SECOND, 0, SECOND);
        String file = dir.resolve("s.tvs").toString();
        new ScenarioRunner(Unicorn::get).progress(progress).run(Scenario.parse(file, """
                vm vcpus=1
                sample host-tsc every 1ms for 3ms -> s.csv
                """), step -> { });
        assertEquals(List.of(
                "tickvm: " + file + ":1: vm vcpus=1: 0 guest blocks, wall 1 s",
                "tickvm: " + file + ":2: sample host-tsc every 1ms for 3ms -> s.csv: 0 guest blocks, true time 54 ns,"
                        + " wall 1 s",
                "tickvm: " + file + ":2: sample host-tsc every 1ms for 3ms -> s.csv: 0 of 3 rows (0%), true time 54 ns,"
                        + " wall 2 s",
                "tickvm: " + file + ":2: sample host-tsc every 1ms for 3ms -> s.csv: 1 of 3 rows (33%), true time"
                        + " 1,000,054 ns, wall 3 s",
                "tickvm: " + file + ":2: sample host-tsc every 1ms for 3ms -> s.csv: 2 of 3 rows (66%), true time"
                        + " 2,000,054 ns, wall 4 s"), lines);
    }

    @Test
    void noProgressIsAnOptionAndTheTapOnStdoutStaysTheSame(@TempDir Path dir) {
        ScenarioCli.Outcome quiet = ScenarioCli.runText(dir, "t.tvs", SCENARIO, "--tap", "--no-progress");
        ScenarioCli.Outcome plain = ScenarioCli.runText(dir, "t.tvs", SCENARIO, "--tap");
        assertAll(quiet.toString(),
                () -> assertEquals(0, quiet.exitCode()),
                () -> assertEquals("", quiet.stderr()),
                () -> assertTrue(quiet.stdout().startsWith("TAP version 13"), quiet.stdout()),
                () -> assertEquals(plain.stdout().replaceAll("[0-9.,]+ [mun]?s", "T"),
                        quiet.stdout().replaceAll("[0-9.,]+ [mun]?s", "T")));
    }
}
