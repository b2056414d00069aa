package dev.tickvm.scenario;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tickvm.scenario.ScenarioReport.StepReport;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The two faces of a {@link ScenarioReport}: lines for people, and JSON for programs. */
final class ReportWriter {
    /** Step text is padded to this width so that results line up. */
    static final int TEXT_WIDTH = 44;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

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

    /** Several files' reports: a JSON array of {@link #json(ScenarioReport)}'s objects. */
    static String json(List<ScenarioReport> reports) {
        try {
            return JSON.writeValueAsString(reports);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String json(ScenarioReport report) {
        try {
            return JSON.writeValueAsString(report);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String pad(String text) {
        return text.length() >= TEXT_WIDTH ? text : text + " ".repeat(TEXT_WIDTH - text.length());
    }
}
