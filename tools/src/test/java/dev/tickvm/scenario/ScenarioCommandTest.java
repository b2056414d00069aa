package dev.tickvm.scenario;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tickvm scenario}: its text and JSON output, exit codes, syntax errors and help. */
class ScenarioCommandTest {
    @TempDir
    Path dir;

    @Test
    void printsEveryStepThenTheSummaryLineLast() {
        ScenarioCli.Outcome o = ScenarioCli.runText(dir, "x.tvs", """
                # no VM needed for arithmetic
                let a = 3_000_000
                let b = a + 4   # four more

                expect b - a == 4
                expect b == a +- 3
                print b - a, a:x
                """);
        List<String> lines = o.outLines();
        assertAll(o.toString(),
                () -> assertEquals(1, o.exitCode()),
                () -> assertEquals("", o.stderr()),
                () -> assertEquals(List.of(
                        "   2  let a = 3_000_000                             a = 3,000,000",
                        "   3  let b = a + 4                                 b = 3,000,004",
                        "   5  PASS expect b - a == 4 (4 == 4)",
                        "   6  FAIL expect b == a +- 3 (3,000,004 == 3,000,000 +- 3; differ by 4)",
                        "   7  print b - a, a:x                              b - a = 4, a = 0x2dc6c0"),
                        lines.subList(0, 5)),
                () -> assertTrue(lines.get(5).matches(".*x\\.tvs: 5 of 5 steps ran in \\d+\\.\\d\\d s"), lines.get(5)),
                () -> assertEquals("1 passed, 1 failed", lines.getLast()),
                () -> assertEquals(7, lines.size()));
    }

    @Test
    void allPassingExitsZero() {
        ScenarioCli.Outcome o = ScenarioCli.runText(dir, "ok.tvs", "expect 1 < 2\n");
        assertEquals(0, o.exitCode(), o::toString);
        assertEquals("1 passed, 0 failed", o.outLines().getLast());
    }

    @Test
    void aSyntaxErrorRunsNothingAndNamesFileLineAndColumn() {
        ScenarioCli.Outcome o = ScenarioCli.runText(dir, "bad.tvs", """
                host h
                vm host=h vcpus=1
                guest 0 rdtscc -> t
                let fine = 1
                """);
        String file = dir.resolve("bad.tvs").toString();
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertEquals("", o.stdout(), "nothing ran, so no step was printed"),
                () -> assertEquals(List.of(file + ":3:9: unknown command 'rdtscc' (did you mean 'rdtsc'?)",
                        "    guest 0 rdtscc -> t", "            ^",
                        "tickvm: " + file + ": 1 syntax error; nothing ran"), o.errLines()));
    }

    @Test
    void aSyntaxErrorInJson() throws Exception {
        ScenarioCli.Outcome o = ScenarioCli.runText(dir, "bad.tvs", "let a = (1\nexpect a == b\n", "--json");
        assertEquals(2, o.exitCode(), o::toString);
        assertEquals("", o.stderr());
        JsonNode json = new ObjectMapper().readTree(o.stdout());
        assertEquals(false, json.get("ok").asBoolean());
        assertEquals(0, json.get("steps").size());
        JsonNode errors = json.get("syntaxErrors");
        assertEquals(2, errors.size());
        assertEquals(1, errors.get(0).get("line").asInt());
        assertEquals(11, errors.get(0).get("column").asInt());
        assertEquals("unterminated expression: missing ')' for the '(' at column 9", errors.get(0).get("message").asText());
        assertEquals("let a = (1", errors.get(0).get("source").asText());
        assertEquals("unknown variable 'b'", errors.get(1).get("message").asText());
    }

    @Test
    void jsonReportsEveryStep() throws Exception {
        ScenarioCli.Outcome o = ScenarioCli.runText(dir, "j.tvs", """
                host h tsc-khz=3000000
                vm host=h vcpus=1
                host-tsc -> h0
                expect h0 > 0
                expect h0 == 0
                get-msr 0 0x1234 -> v
                let never = 1
                """, "--json");
        assertEquals(1, o.exitCode(), o::toString);
        JsonNode json = new ObjectMapper().readTree(o.stdout());
        List<String> fields = new ArrayList<>();
        json.fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("tickvm", "command", "file", "ok", "passed", "failed", "syntaxErrors", "stoppedAt", "steps",
                "wallNanos"), fields);
        assertEquals("scenario", json.get("command").asText());
        assertEquals(dir.resolve("j.tvs").toString(), json.get("file").asText());
        assertEquals(1, json.get("passed").asInt());
        assertEquals(2, json.get("failed").asInt());
        List<JsonNode> steps = StreamSupport.stream(json.get("steps").spliterator(), false).toList();
        assertEquals(List.of("ok", "ok", "ok", "pass", "fail", "error", "not-run"),
                steps.stream().map(s -> s.get("status").asText()).toList());
        List<String> stepFields = new ArrayList<>();
        steps.getFirst().fieldNames().forEachRemaining(stepFields::add);
        assertEquals(List.of("step", "line", "text", "kind", "status", "results", "values", "message", "hostNanos"),
                stepFields);
        JsonNode read = steps.get(2);
        long h0 = read.get("results").get("h0").asLong();
        assertAll(
                () -> assertEquals(3, read.get("step").asInt()),
                () -> assertEquals(3, read.get("line").asInt()),
                () -> assertEquals("host-tsc -> h0", read.get("text").asText()),
                () -> assertEquals("host-tsc", read.get("kind").asText()),
                () -> assertTrue(h0 > 0),
                () -> assertTrue(read.get("results").get("h0").isTextual(), "64-bit values are strings"),
                () -> assertEquals(h0, read.get("values").get(0).asLong()),
                () -> assertEquals("h0 = " + String.format("%,d", h0), read.get("message").asText()),
                () -> assertEquals(h0 / 3, read.get("hostNanos").asLong()),
                () -> assertEquals(List.of(h0, 0L), StreamSupport.stream(steps.get(4).get("values").spliterator(), false)
                        .map(JsonNode::asLong).toList()),
                () -> assertEquals("EINVAL: KVM_GET_MSRS: MSR (0x1234) is not supported",
                        steps.get(5).get("message").asText()),
                () -> assertTrue(steps.get(6).get("message").isNull()),
                () -> assertTrue(steps.get(6).get("hostNanos").isNull()),
                () -> assertEquals(6, json.get("stoppedAt").get("line").asInt()),
                () -> assertEquals(6, json.get("stoppedAt").get("step").asInt()),
                () -> assertEquals("get-msr 0 0x1234 -> v", json.get("stoppedAt").get("text").asText()),
                () -> assertTrue(json.get("wallNanos").asLong() > 0));
    }

    @Test
    void aMissingFileIsBadUsage() {
        Path missing = dir.resolve("nope.tvs");
        ScenarioCli.Outcome o = ScenarioCli.run("scenario", missing.toString());
        assertEquals(2, o.exitCode());
        assertEquals(List.of("tickvm: no such scenario file: " + missing), o.errLines());
        assertEquals(2, ScenarioCli.run("scenario", dir.toString()).exitCode());
        assertEquals(2, ScenarioCli.run("scenario").exitCode());
    }

    /** Issue 11.10: a Latin-1 file said "Input length = 1"; now which byte, where, exit 2 as bad input. */
    @Test
    void aLatin1FileSaysWhichByteAndWhere() throws java.io.IOException {
        Path file = java.nio.file.Files.write(dir.resolve("latin1.tvs"),
                "let a = 1\n# caf\u00e9\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        ScenarioCli.Outcome o = ScenarioCli.run("scenario", file.toString());
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertEquals("", o.stdout()),
                () -> assertEquals(List.of("tickvm: " + file + ": not UTF-8 text: invalid byte 0xe9 at line 2, column 6;"
                        + " nothing ran"), o.errLines()));
        ScenarioCli.Outcome tap = ScenarioCli.run("scenario", "--tap", file.toString());
        assertAll(tap.toString(),
                () -> assertEquals(2, tap.exitCode()),
                () -> assertEquals(List.of("TAP version 13", "1..1", "not ok 1 - " + file,
                        "# " + file + ":2:6: not UTF-8 text: invalid byte 0xe9"), tap.outLines()));
    }

    /** A binary file: its NUL bytes are valid UTF-8, but no scenario has them. */
    @Test
    void aBinaryFileSaysItIsNotText() throws java.io.IOException {
        Path binary = java.nio.file.Files.write(dir.resolve("bin.tvs"), new byte[] {0, 1, 2, 'a', 'b', 'c'});
        ScenarioCli.Outcome o = ScenarioCli.run("scenario", binary.toString());
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertEquals(List.of("tickvm: " + binary + ": not text: a NUL byte (a binary file?) at line 1,"
                        + " column 1; nothing ran"), o.errLines()));
        // Columns count characters, as the parser's do: "# é" is three.
        Path late = java.nio.file.Files.write(dir.resolve("late.tvs"),
                "let a = 1\n# \u00e9\0\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(List.of("tickvm: " + late + ": not text: a NUL byte (a binary file?) at line 2, column 4;"
                + " nothing ran"), ScenarioCli.run("scenario", late.toString()).errLines());
    }

    /** /dev/null exists: "no such scenario file" was wrong. */
    @Test
    void aDeviceIsNotAScenarioFile() {
        ScenarioCli.Outcome o = ScenarioCli.run("scenario", "/dev/null");
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertEquals(List.of("tickvm: /dev/null: not a regular file (a character device); give a scenario"
                        + " file (*.tvs) or a directory of them"), o.errLines()));
    }

    /** Mode 000 gave only the path; skipped as root, whom the mode does not stop. */
    @Test
    void anUnreadableFileSaysPermissionDenied() throws java.io.IOException {
        Path file = java.nio.file.Files.writeString(dir.resolve("locked.tvs"), "let a = 1\n");
        java.nio.file.Files.setPosixFilePermissions(file, java.util.Set.of());
        org.junit.jupiter.api.Assumptions.assumeFalse(java.nio.file.Files.isReadable(file),
                "mode 000 does not stop this user (root) from reading");
        ScenarioCli.Outcome o = ScenarioCli.run("scenario", file.toString());
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertEquals(List.of("tickvm: " + file + ": cannot read it: permission denied"), o.errLines()));
    }

    /** The help teaches the language with examples; each must run and pass. */
    @Test
    void theHelpsExamplesRunAndPass() {
        ScenarioCli.Outcome help = ScenarioCli.run("scenario", "--help");
        assertEquals(0, help.exitCode(), help::toString);
        assertEquals("", help.stderr());
        List<String> lines = help.outLines();
        assertTrue(help.stdout().startsWith("Usage: tickvm scenario [-hV] [--json]"), help.stdout());
        for (String statement : List.of("host ", "vm ", "advance ", "host-tsc ", "set-tsc-khz ", "get-msr ", "set-attr ",
                "get-vm ", "get-vcpu ", "guest CPU rdtsc", "let ", "expect A == B", "expect-error ", "print ",
                "enable-kvmclock ", "get-clock ", "set-clock ", "get-pvclock ", "set-vm pvclock-mode ", "kvmclock-ctrl ",
                "pause ", "guest CPU kvmclock ", "guest CPU wallclock ", "guest CPU|all kvmclock-sync ",
                "guest CPU torn-kvmclock ", "guest CPU watch-start ", "guest CPU watch-stop ")) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("  " + statement) || l.contains("    " + statement)),
                    "help shows " + statement);
        }
        for (String word : List.of("host-realtime", "use-master-clock", "kvmclock-offset", "pvclock-hz", "resume",
                "TSC_STABLE=2", "REALTIME=4", "HOST_TSC=8", "PVCLOCK_TSC_STABLE_BIT=1", "PVCLOCK_GUEST_STOPPED=2")) {
            assertTrue(help.stdout().contains(word), "help shows " + word);
        }
        assertEquals("2 passed, 0 failed", runExample(lines, "Example (guest TSC at 2.5 GHz on a 3 GHz host):"));
        assertEquals("4 passed, 0 failed", runExample(lines,
                "Example (kvmclock: kvm_clock_test's check, and a pause that kvmclock does not count):"));
        assertTrue(ScenarioCli.run("--help").stdout().contains("\n  scenario "), "listed in tickvm --help");
    }

    /** Runs the example under {@code title} (its indented lines up to a blank one); gives the summary line. */
    private String runExample(List<String> lines, String title) {
        int start = lines.indexOf(title) + 1;
        assertTrue(start > 0, () -> "no '" + title + "' in " + lines);
        List<String> example = new ArrayList<>();
        for (int i = start; !lines.get(i).isBlank(); i++) {
            example.add(lines.get(i).substring(2));
        }
        ScenarioCli.Outcome run = ScenarioCli.runText(dir, "example" + start + ".tvs", String.join("\n", example) + "\n");
        assertEquals(0, run.exitCode(), run::toString);
        return run.outLines().getLast();
    }
}
