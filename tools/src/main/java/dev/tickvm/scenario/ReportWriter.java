package dev.tickvm.scenario;

import dev.tickvm.scenario.ScenarioReport.StepReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import dev.tickvm.tools.Json;

/** The two faces of a {@link ScenarioReport}: lines for people, and JSON for programs. */
final class ReportWriter {
    /** Step text is padded to this width so that results line up. */
    static final int TEXT_WIDTH = 44;

    private ReportWriter() {
    }

    /**
     * One step, e.g. {@code "  12  guest 0 rdtsc -> t          t = 2,500,123"} or
     * {@code "  15  PASS expect t1 - t0 == 3000000 (3,000,000 == 3,000,000)"}.
     */
    static String line(StepReport r) {
        String body = switch (r.status()) {
            case OK -> r.message() == null || r.message().isEmpty() ? r.text()
                    : pad(r.text()) + "  " + r.message();
            case PASS, FAIL -> r.status() + " " + r.text() + " (" + r.message() + ")";
            case ERROR -> "ERROR " + r.text() + ": " + r.message();
            case NOT_RUN -> "not run: " + r.text();
        };
        return String.format(Locale.ROOT, "%4d  %s", r.line(), body);
    }

    /** What follows the steps: why the run stopped (if it did), timing, and the summary line last. */
    static List<String> footer(ScenarioReport report) {
        List<String> lines = new ArrayList<>();
        if (report.stoppedAt() != null) {
            lines.add(report.stoppedAt().message());
        }
        long ran = report.steps().stream().filter(s -> s.status() != ScenarioReport.Status.NOT_RUN).count();
        Long hostNanos = report.steps().stream().filter(s -> s.hostNanos() != null).reduce((a, b) -> b)
                .map(StepReport::hostNanos).orElse(null);
        lines.add(String.format(Locale.ROOT, "%s: %d of %d steps ran in %.2f s%s", report.file(), ran,
                report.steps().size(), report.wallNanos() / 1e9,
                hostNanos == null ? "" : String.format(Locale.ROOT, " (true time at the end: %s ns)",
                        ScenarioRunner.fmt(hostNanos))));
        lines.add(report.summary());
        return lines;
    }

    /**
     * Several files' reports: one object, the envelope, then {@code reports} (each
     * {@link #json(ScenarioReport)}'s fields without the envelope) and the suite's totals.
     */
    static String json(List<ScenarioReport> reports) {
        Map<String, Object> m = Json.envelope("scenario");
        m.put("ok", reports.stream().allMatch(r -> r.ok()));
        m.put("passed", reports.stream().mapToInt(ScenarioReport::passed).sum());
        m.put("failed", reports.stream().mapToInt(ScenarioReport::failed).sum());
        m.put("reports", reports);
        return Json.write(m);
    }

    /** One file's report: the envelope, then the report's fields; 64-bit values are strings (docs/JSON.md). */
    static String json(ScenarioReport report) {
        return Json.write(Json.report("scenario", report));
    }

    private static String pad(String text) {
        return text.length() >= TEXT_WIDTH ? text : text + " ".repeat(TEXT_WIDTH - text.length());
    }
}
