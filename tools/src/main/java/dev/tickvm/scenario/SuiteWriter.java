package dev.tickvm.scenario;

import dev.tickvm.scenario.ScenarioReport.Status;
import dev.tickvm.scenario.ScenarioReport.StepReport;
import dev.tickvm.scenario.ScenarioSyntaxException.SyntaxError;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * The faces of a suite, several {@link ScenarioReport}s: the summary after the text reports,
 * TAP version 13 (as the KVM selftests print it) and JUnit XML for CI.
 */
final class SuiteWriter {
    private SuiteWriter() {
    }

    /**
     * One line per file, then the totals {@code "N passed, M failed"} alone on the last line:
     * {@code PASS f (3 passed)}, {@code FAIL f (1 passed, 2 failed, stopped at line 6)},
     * {@code ERROR f: 1 syntax error}.
     */
    static List<String> summary(List<ScenarioReport> reports) {
        List<String> lines = new ArrayList<>();
        for (ScenarioReport r : reports) {
            lines.add(summaryLine(r));
        }
        lines.add(totals(reports));
        return lines;
    }

    static String summaryLine(ScenarioReport r) {
        if (!r.syntaxErrors().isEmpty()) {
            return "ERROR " + r.file() + ": " + syntaxErrors(r);
        }
        if (r.ok()) {
            return "PASS " + r.file() + " (" + r.passed() + " passed)";
        }
        String stop = r.stoppedAt() == null ? ""
                : r.stoppedAt().line() > 0 ? ", stopped at line " + r.stoppedAt().line() : ", stopped";
        return "FAIL " + r.file() + " (" + r.passed() + " passed, " + r.failed() + " failed" + stop + ")";
    }

    /** The totals of expectations over every file, in the single-file summary's words. */
    static String totals(List<ScenarioReport> reports) {
        int passed = reports.stream().mapToInt(ScenarioReport::passed).sum();
        int failed = reports.stream().mapToInt(ScenarioReport::failed).sum();
        return passed + " passed, " + failed + " failed";
    }

    /** The worst exit code of the files: 2 a syntax error, 1 a failure or a stop, 0 all passed. */
    static int exitCode(List<ScenarioReport> reports) {
        return reports.stream().mapToInt(ScenarioReport::exitCode).max().orElse(0);
    }

    /**
     * TAP version 13: the plan, then {@code ok K - file} or {@code not ok K - file} per file,
     * each failure explained on {@code # } lines after it.
     */
    static List<String> tap(List<ScenarioReport> reports) {
        List<String> lines = new ArrayList<>();
        lines.add("TAP version 13");
        lines.add("1.." + reports.size());
        int k = 0;
        for (ScenarioReport r : reports) {
            k++;
            boolean ok = r.ok() && r.syntaxErrors().isEmpty();
            lines.add((ok ? "ok " : "not ok ") + k + " - " + r.file());
            if (!ok) {
                problems(r).forEach(p -> lines.add("# " + p));
                if (r.syntaxErrors().isEmpty()) {
                    lines.add("# " + r.summary());
                }
            }
        }
        return lines;
    }

    /**
     * What went wrong in a file, one line each: its syntax errors (file:line:column: message),
     * its failed expectations (file:line: FAIL text (operands)), the runtime error that stopped it.
     */
    static List<String> problems(ScenarioReport r) {
        List<String> lines = new ArrayList<>();
        for (SyntaxError e : r.syntaxErrors()) {
            lines.add(e.toString());
        }
        for (StepReport s : r.steps()) {
            if (s.status() == Status.FAIL) {
                lines.add(r.file() + ":" + s.line() + ": FAIL " + s.text() + " (" + s.message() + ")");
            }
        }
        if (r.stoppedAt() != null) {
            lines.add(r.stoppedAt().message());
        }
        return lines;
    }

    /**
     * Writes JUnit XML to {@code target}: one testsuite, one testcase per file (classname
     * "scenario"), a failure for failed expectations, an error for a syntax or runtime error. The
     * file appears whole or not at all: it is written beside the target, then moved over it.
     */
    static void junit(List<ScenarioReport> reports, Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path temp = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(temp)) {
                writeJunit(reports, out);
            }
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    static void writeJunit(List<ScenarioReport> reports, OutputStream out) throws IOException {
        int failures = 0;
        int errors = 0;
        long nanos = 0;
        for (ScenarioReport r : reports) {
            switch (kind(r)) {
                case "failure" -> failures++;
                case "error" -> errors++;
                default -> {
                }
            }
            nanos += r.wallNanos();
        }
        try {
            XMLStreamWriter xml = XMLOutputFactory.newInstance().createXMLStreamWriter(out, "UTF-8");
            xml.writeStartDocument("UTF-8", "1.0");
            xml.writeCharacters("\n");
            xml.writeStartElement("testsuite");
            xml.writeAttribute("name", "scenario");
            xml.writeAttribute("tests", Integer.toString(reports.size()));
            xml.writeAttribute("failures", Integer.toString(failures));
            xml.writeAttribute("errors", Integer.toString(errors));
            xml.writeAttribute("skipped", "0");
            xml.writeAttribute("time", seconds(nanos));
            for (ScenarioReport r : reports) {
                xml.writeCharacters("\n  ");
                String kind = kind(r);
                if (kind.isEmpty()) {
                    xml.writeEmptyElement("testcase");
                    testcaseAttributes(xml, r);
                    continue;
                }
                xml.writeStartElement("testcase");
                testcaseAttributes(xml, r);
                xml.writeCharacters("\n    ");
                xml.writeStartElement(kind);
                xml.writeAttribute("message", clean(message(r)));
                xml.writeAttribute("type", !r.syntaxErrors().isEmpty() ? "syntax-error"
                        : r.stoppedAt() != null ? "runtime-error" : "expectation");
                xml.writeCharacters(clean(String.join("\n", problems(r))));
                xml.writeEndElement();
                xml.writeCharacters("\n  ");
                xml.writeEndElement();
            }
            xml.writeCharacters("\n");
            xml.writeEndElement();
            xml.writeCharacters("\n");
            xml.writeEndDocument();
            xml.flush();
            xml.close();
        } catch (XMLStreamException e) {
            throw new IOException("cannot write JUnit XML: " + e.getMessage(), e);
        }
    }

    /** "" for a pass, "failure" for failed expectations, "error" for a syntax or runtime error. */
    private static String kind(ScenarioReport r) {
        if (!r.syntaxErrors().isEmpty() || r.stoppedAt() != null) {
            return "error";
        }
        return r.ok() ? "" : "failure";
    }

    private static String message(ScenarioReport r) {
        if (!r.syntaxErrors().isEmpty()) {
            return syntaxErrors(r) + "; nothing ran";
        }
        if (r.stoppedAt() != null) {
            return r.stoppedAt().message();
        }
        return r.summary();
    }

    private static void testcaseAttributes(XMLStreamWriter xml, ScenarioReport r) throws XMLStreamException {
        xml.writeAttribute("name", clean(r.file()));
        xml.writeAttribute("classname", "scenario");
        xml.writeAttribute("time", seconds(r.wallNanos()));
    }

    private static String syntaxErrors(ScenarioReport r) {
        int n = r.syntaxErrors().size();
        return n + " syntax error" + (n == 1 ? "" : "s");
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e9);
    }

    /** XML 1.0 cannot hold most control characters at all: they become '?'. */
    private static String clean(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> b.appendCodePoint(
                c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0xfffe || c == 0xffff ? '?' : c));
        return b.toString();
    }
}
