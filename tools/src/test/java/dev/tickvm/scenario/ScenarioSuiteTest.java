package dev.tickvm.scenario;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** {@code tickvm scenario FILE|DIR...}: several files as a suite; the summary, TAP, JUnit XML, JSON. */
class ScenarioSuiteTest {
    @TempDir
    Path tmp;

    /** Two passing files and a failing one, named so that the failing one sorts between them. */
    Path suite;
    String a;
    String b;
    String c;

    @BeforeEach
    void writeTheSuite() throws IOException {
        suite = Files.createDirectory(tmp.resolve("suite"));
        Files.writeString(suite.resolve("a_pass.tvs"), "let x = 3\nexpect x == 3\nexpect x > 1\n");
        Files.writeString(suite.resolve("b_fail.tvs"), "let x = 3\nexpect x == 3\nexpect x == 4\nexpect x < 2\n");
        Files.writeString(suite.resolve("c_pass.tvs"), "expect 1 < 2\n");
        Files.writeString(suite.resolve("notes.txt"), "not a scenario\n");
        Files.createDirectory(suite.resolve("deeper.tvs")); // a directory, even named so, is not a file
        Files.writeString(suite.resolve("deeper.tvs").resolve("z.tvs"), "expect 1 == 2\n");
        a = suite.resolve("a_pass.tvs").toString();
        b = suite.resolve("b_fail.tvs").toString();
        c = suite.resolve("c_pass.tvs").toString();
    }

    @Test
    void tapHasOneLinePerFileAndSaysWhyOneFailed() {
        ScenarioCli.Outcome o = ScenarioCli.run("scenario", suite.toString(), "--tap");
        assertAll(o.toString(),
                () -> assertEquals(1, o.exitCode()),
                () -> assertEquals("", o.stderr()),
                () -> assertEquals(List.of(
                        "TAP version 13",
                        "1..3",
                        "ok 1 - " + a,
                        "not ok 2 - " + b,
                        "# " + b + ":3: FAIL expect x == 4 (3 == 4; differ by -1)",
                        "# " + b + ":4: FAIL expect x < 2 (3 < 2)",
                        "# 1 passed, 2 failed",
                        "ok 3 - " + c), o.outLines()));
    }

    @Test
    void textPrintsEachReportThenOneLinePerFileAndTheTotalsLast() {
        ScenarioCli.Outcome o = ScenarioCli.run("scenario", suite.toString());
        List<String> lines = o.outLines();
        assertAll(o.toString(),
                () -> assertEquals(1, o.exitCode()),
                () -> assertEquals("", o.stderr()),
                () -> assertEquals(List.of(
                        "   1  let x = 3                                     x = 3",
                        "   2  PASS expect x == 3 (3 == 3)",
                        "   3  PASS expect x > 1 (3 > 1)"), lines.subList(0, 3)),
                () -> assertEquals("2 passed, 0 failed", lines.get(4)),
                () -> assertEquals("", lines.get(5), "a blank line between two files' reports"),
                () -> assertEquals("   3  FAIL expect x == 4 (3 == 4; differ by -1)", lines.get(8)),
                () -> assertEquals(List.of(
                        "",
                        "PASS " + a + " (2 passed)",
                        "FAIL " + b + " (1 passed, 2 failed)",
                        "PASS " + c + " (1 passed)",
                        "4 passed, 2 failed"), lines.subList(lines.size() - 5, lines.size())));
    }

    @Test
    void junitXmlHasATestcasePerFileAndAFailureForTheFailingOne() throws Exception {
        Path xml = tmp.resolve("report.xml");
        Files.writeString(xml, "an older report, replaced");
        ScenarioCli.Outcome o = ScenarioCli.run("scenario", suite.toString(), "--tap", "--junit", xml.toString());
        assertEquals(1, o.exitCode(), o::toString);
        assertEquals("ok 3 - " + c, o.outLines().getLast(), "--junit goes with --tap");
        Element root = parse(xml).getDocumentElement();
        NodeList cases = root.getElementsByTagName("testcase");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < cases.getLength(); i++) {
            Element testcase = (Element) cases.item(i);
            names.add(testcase.getAttribute("name"));
            assertEquals("scenario", testcase.getAttribute("classname"));
            assertTrue(testcase.getAttribute("time").matches("\\d+\\.\\d{3}"), testcase.getAttribute("time"));
        }
        Element failure = (Element) root.getElementsByTagName("failure").item(0);
        assertAll(
                () -> assertEquals("testsuite", root.getTagName()),
                () -> assertEquals("3", root.getAttribute("tests")),
                () -> assertEquals("1", root.getAttribute("failures")),
                () -> assertEquals("0", root.getAttribute("errors")),
                () -> assertEquals(List.of(a, b, c), names),
                () -> assertEquals(1, root.getElementsByTagName("failure").getLength()),
                () -> assertEquals(0, root.getElementsByTagName("error").getLength()),
                () -> assertEquals(b, ((Element) failure.getParentNode()).getAttribute("name")),
                () -> assertEquals("1 passed, 2 failed", failure.getAttribute("message")),
                () -> assertEquals(b + ":3: FAIL expect x == 4 (3 == 4; differ by -1)\n"
                        + b + ":4: FAIL expect x < 2 (3 < 2)", failure.getTextContent()),
                () -> assertEquals(List.of("report.xml", "suite"), list(tmp), "no temporary file left behind"));
    }

    @Test
    void aSyntaxErrorAndARuntimeErrorDoNotStopTheOtherFiles() throws Exception {
        Files.writeString(suite.resolve("b_fail.tvs"), "let a = (1\n");
        Files.writeString(suite.resolve("b_stops.tvs"),
                "host h\nvm host=h vcpus=1\nexpect 1 == 1\nget-msr 0 0x1234 -> v\nlet never = 1\n");
        String bad = suite.resolve("b_fail.tvs").toString();
        String stops = suite.resolve("b_stops.tvs").toString();
        String stop = stops + ":4: step 4 'get-msr 0 0x1234 -> v' failed: EINVAL: KVM_GET_MSRS: MSR (0x1234) is not"
                + " supported; the run stops here (1 later step not run)";
        Path xml = tmp.resolve("out.xml");

        ScenarioCli.Outcome text = ScenarioCli.run("scenario", suite.toString(), "--junit", xml.toString());
        List<String> lines = text.outLines();
        assertAll(text.toString(),
                () -> assertEquals(2, text.exitCode(), "a syntax error anywhere is exit 2"),
                () -> assertEquals("tickvm: " + bad + ": 1 syntax error; nothing ran", text.errLines().getLast()),
                () -> assertEquals(List.of(
                        "PASS " + a + " (2 passed)",
                        "ERROR " + bad + ": 1 syntax error",
                        "FAIL " + stops + " (1 passed, 1 failed, stopped at line 4)",
                        "PASS " + c + " (1 passed)",
                        "4 passed, 1 failed"), lines.subList(lines.size() - 5, lines.size())));

        Element root = parse(xml).getDocumentElement();
        NodeList errors = root.getElementsByTagName("error");
        assertAll(
                () -> assertEquals("4", root.getAttribute("tests")),
                () -> assertEquals("0", root.getAttribute("failures")),
                () -> assertEquals("2", root.getAttribute("errors")),
                () -> assertEquals(2, errors.getLength()),
                () -> assertEquals("1 syntax error; nothing ran", ((Element) errors.item(0)).getAttribute("message")),
                () -> assertEquals(bad + ":1:11: unterminated expression: missing ')' for the '(' at column 9",
                        errors.item(0).getTextContent()),
                () -> assertEquals(stop, ((Element) errors.item(1)).getAttribute("message")));

        ScenarioCli.Outcome tap = ScenarioCli.run("scenario", suite.toString(), "--tap");
        assertAll(tap.toString(),
                () -> assertEquals(2, tap.exitCode()),
                () -> assertEquals("", tap.stderr(), "in TAP, nothing but TAP"),
                () -> assertEquals(List.of(
                        "TAP version 13",
                        "1..4",
                        "ok 1 - " + a,
                        "not ok 2 - " + bad,
                        "# " + bad + ":1:11: unterminated expression: missing ')' for the '(' at column 9",
                        "not ok 3 - " + stops,
                        "# " + stop,
                        "# 1 passed, 1 failed",
                        "ok 4 - " + c), tap.outLines()));
    }

    @Test
    void severalFilesInJsonAreOneObjectWithTheReportsAndTheTotals() throws Exception {
        ScenarioCli.Outcome o = ScenarioCli.run("scenario", c, a, "--json");
        assertEquals(0, o.exitCode(), o::toString);
        JsonNode json = new ObjectMapper().readTree(o.stdout());
        JsonNode reports = json.get("reports");
        assertAll(
                () -> assertEquals("scenario", json.get("command").asText()),
                () -> assertTrue(json.get("ok").asBoolean()),
                () -> assertEquals(3, json.get("passed").asInt()),
                () -> assertEquals(0, json.get("failed").asInt()),
                () -> assertEquals(2, reports.size()),
                () -> assertEquals(c, reports.get(0).get("file").asText(), "in the order given"),
                () -> assertEquals(a, reports.get(1).get("file").asText()),
                () -> assertEquals(2, reports.get(1).get("passed").asInt()));
        JsonNode one = new ObjectMapper().readTree(ScenarioCli.run("scenario", a, "--json").stdout());
        assertEquals(a, one.get("file").asText(), "one file: its report's fields beside the envelope");
    }

    @Test
    void filesAndDirectoriesMixAndAllPassingExitsZero() {
        ScenarioCli.Outcome o = ScenarioCli.run("scenario", a, suite.resolve("deeper.tvs").toString(), c);
        List<String> lines = o.outLines();
        String z = suite.resolve("deeper.tvs").resolve("z.tvs").toString();
        assertAll(o.toString(),
                () -> assertEquals(1, o.exitCode()),
                () -> assertEquals(List.of("PASS " + a + " (2 passed)", "FAIL " + z + " (0 passed, 1 failed)",
                        "PASS " + c + " (1 passed)", "3 passed, 1 failed"), lines.subList(lines.size() - 4, lines.size())));
        ScenarioCli.Outcome passing = ScenarioCli.run("scenario", a, c, "--tap");
        assertEquals(0, passing.exitCode(), passing::toString);
        assertEquals(List.of("TAP version 13", "1..2", "ok 1 - " + a, "ok 2 - " + c), passing.outLines());
    }

    @Test
    void badUsage() throws IOException {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        ScenarioCli.Outcome none = ScenarioCli.run("scenario", empty.toString());
        ScenarioCli.Outcome both = ScenarioCli.run("scenario", a, "--json", "--tap");
        ScenarioCli.Outcome nowhere = ScenarioCli.run("scenario", a, "--junit", tmp.resolve("no/such/dir.xml").toString());
        ScenarioCli.Outcome missing = ScenarioCli.run("scenario", a, tmp.resolve("missing.tvs").toString());
        assertAll(
                () -> assertEquals(2, none.exitCode()),
                () -> assertEquals(List.of("tickvm: no scenario files (*.tvs) in " + empty), none.errLines()),
                () -> assertEquals(2, both.exitCode()),
                () -> assertEquals("", both.stdout()),
                () -> assertEquals(2, nowhere.exitCode()),
                () -> assertEquals("", nowhere.stdout(), "nothing ran"),
                () -> assertEquals(2, missing.exitCode()),
                () -> assertEquals("", missing.stdout(), "nothing ran"),
                () -> assertEquals(List.of("tickvm: no such scenario file: " + tmp.resolve("missing.tvs")),
                        missing.errLines()));
    }

    /** The shipped scenarios as a suite: every file is 'ok'. */
    @Test
    void theShippedScenariosAreAllOkInTap() throws IOException {
        List<String> files;
        try (Stream<Path> listed = Files.list(ScenarioFilesTest.SCENARIOS)) {
            files = listed.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tvs")).sorted().toList();
        }
        ScenarioCli.Outcome o = ScenarioCli.run("scenario", ScenarioFilesTest.SCENARIOS.toString(), "--tap");
        List<String> expected = new ArrayList<>(List.of("TAP version 13", "1.." + files.size()));
        for (int k = 1; k <= files.size(); k++) {
            expected.add("ok " + k + " - " + ScenarioFilesTest.SCENARIOS.resolve(files.get(k - 1)));
        }
        assertAll(o.toString(),
                () -> assertEquals(0, o.exitCode()),
                () -> assertEquals(expected, o.outLines()),
                () -> assertEquals("ok 1 - " + Path.of("..", "scenarios", "cpuid.tvs"), o.outLines().get(2)));
    }

    @Test
    void theHelpsMentionSuites() {
        String demo = ScenarioCli.run("demo", "--help").stdout();
        String scenario = ScenarioCli.run("scenario", "--help").stdout();
        assertAll(
                () -> assertTrue(demo.contains("./tickvm scenario scenarios/ --tap"), demo),
                () -> assertTrue(scenario.startsWith("Usage: tickvm scenario [-hV] [--json] [--no-progress] [--tap]"),
                        scenario),
                () -> assertTrue(scenario.contains("progress on stderr"), scenario),
                () -> assertTrue(scenario.contains("FILE|DIR..."), scenario),
                () -> assertTrue(scenario.contains("\n  ./tickvm scenario scenarios/ --tap --junit scenarios.xml "),
                        scenario));
    }

    private static Document parse(Path xml) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(xml.toFile());
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> listed = Files.list(dir)) {
            return listed.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
