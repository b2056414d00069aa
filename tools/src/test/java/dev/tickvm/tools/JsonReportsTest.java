package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tickvm.unicorn.Unicorn;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every command's {@code --json} (docs/JSON.md): stdout is one JSON object and nothing else, it
 * starts with the envelope (tickvm and Unicorn versions, the command), and every number in it
 * survives a double-based JSON reader (jq 1.6, JavaScript): the 64-bit values are decimal strings,
 * exact to the last digit.
 */
class JsonReportsTest {
    private static final ObjectMapper READER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    /**
     * The report on stdout, checked: one JSON document and nothing after it, the envelope of
     * {@code command}, and no number a double would change.
     */
    static JsonNode report(Cli.Outcome o, String command) throws IOException {
        JsonNode json = READER.readTree(o.stdout());
        assertTrue(json.isObject(), o::toString);
        List<String> fields = new ArrayList<>();
        json.fieldNames().forEachRemaining(fields::add);
        assertAll(o.toString(),
                () -> assertEquals(List.of("tickvm", "command"), fields.subList(0, 2), "the envelope comes first"),
                () -> assertEquals("development build", json.at("/tickvm/version").asText(),
                        "target/classes have no manifest"),
                () -> assertEquals(Unicorn.get().version().toString(), json.at("/tickvm/unicorn").asText()),
                () -> assertEquals(command, json.get("command").asText()));
        assertEquals(List.of(), numbersADoubleChanges(o.stdout()), o::toString);
        return json;
    }

    /** The numbers of {@code text} that a reader holding every number as a double would not give back exactly. */
    static List<String> numbersADoubleChanges(String text) throws IOException {
        List<String> changed = new ArrayList<>();
        try (JsonParser p = READER.getFactory().createParser(text)) {
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                    BigDecimal exact = new BigDecimal(p.getText());
                    double asDouble = Double.parseDouble(p.getText());
                    if (new BigDecimal(asDouble).compareTo(exact) != 0) {
                        changed.add(p.currentName() + ": " + p.getText() + " -> " + new BigDecimal(asDouble));
                    }
                }
            }
        }
        return changed;
    }

    @Test
    void theCheckCatchesWhatJq16Rounds() throws IOException {
        assertEquals(List.of("realtime: 1767225600000000854 -> 1767225600000000768"),
                numbersADoubleChanges("{\"realtime\": 1767225600000000854, \"small\": 9007199254740992}"));
    }

    @Test
    void longsAreDecimalStringsUnsignedWhenAskedAndIntsNumbers() {
        String json = Json.write(Map.of("a", Long.MAX_VALUE, "b", Long.MIN_VALUE, "c", Json.unsigned(-1L), "d", 7,
                "e", List.of(1L, 2L)));
        JsonNode node = Json.MAPPER.valueToTree(Map.of("v", 5L));
        assertAll(json,
                () -> assertTrue(json.contains("\"a\" : \"9223372036854775807\"")),
                () -> assertTrue(json.contains("\"b\" : \"-9223372036854775808\"")),
                () -> assertTrue(json.contains("\"c\" : \"18446744073709551615\"")),
                () -> assertTrue(json.contains("\"d\" : 7")),
                () -> assertTrue(json.contains("\"e\" : [ \"1\", \"2\" ]")),
                () -> assertTrue(node.get("v").isTextual()));
    }

    @Test
    void versionJsonHasTheVersionsOfTickvmUnicornAndJava() throws IOException {
        Cli.Outcome o = Cli.run("--version", "--json");
        assertEquals(0, o.exitCode(), o::toString);
        JsonNode json = report(o, "version");
        assertAll(o.toString(),
                () -> assertEquals(Unicorn.get().source(), json.get("unicornLibrary").asText()),
                () -> assertEquals(Runtime.version().toString(), json.get("java").asText()),
                () -> assertEquals("", o.stderr()));
        assertEquals(o.stdout(), Cli.run("images", "--version", "--json").stdout(), "a command's --version too");
        assertTrue(Cli.run("--version").stdout().startsWith("tickvm (development build)\n"), "without --json: lines");
    }

    @Test
    void imagesJsonListsTheCatalogue() throws IOException {
        Cli.Outcome o = Cli.run("images", "--json");
        assertEquals(0, o.exitCode(), o::toString);
        JsonNode hello = report(o, "images").get("images").get(0);
        assertAll(hello.toString(),
                () -> assertEquals("hello", hello.get("name").asText()),
                () -> assertEquals(1, hello.get("vcpus").asInt()),
                () -> assertEquals("1048576", hello.get("loadAddress").textValue()),
                () -> assertEquals("1048576", hello.get("entry").textValue()),
                () -> assertEquals(0, hello.get("expectedExitCode").intValue()),
                () -> assertTrue(hello.get("bytes").isInt()));
    }

    @Test
    void runJsonHoldsTheSummaryAndTheSerialOutput() throws IOException {
        Cli.Outcome o = Cli.run("run", "--image", "hello", "--json");
        assertEquals(0, o.exitCode(), o::toString);
        JsonNode json = report(o, "run");
        assertAll(o.toString(),
                () -> assertEquals("hello", json.get("image").asText()),
                () -> assertEquals("16777216", json.get("memory").textValue()),
                () -> assertEquals("virtual", json.get("clock").asText()),
                () -> assertEquals("exited", json.at("/exit/kind").asText()),
                () -> assertEquals(0, json.at("/exit/code").intValue()),
                () -> assertEquals("guest exited with code 0", json.at("/exit/message").asText()),
                () -> assertEquals(1, json.get("vcpus").intValue()),
                () -> assertEquals("155", json.get("blocks").textValue()),
                () -> assertEquals("0", json.get("trappedInstructions").textValue()),
                () -> assertEquals("2160", json.get("hostNanos").textValue()),
                () -> assertEquals("Hello from a tickvm guest on vCPU 0\n", json.get("serial").asText()),
                () -> assertTrue(json.get("snapshot").isNull()),
                () -> assertEquals("", o.stderr(), "no summary line: it is in the JSON"));
    }

    @Test
    void runSavedThenInspectedThenRestoredInJson(@TempDir Path dir) throws IOException {
        String file = dir.resolve("c.tvm").toString();
        Cli.Outcome saved = Cli.run("run", "--image", "counter", "--save-at", "1ms", "--snapshot", file, "--json");
        assertEquals(0, saved.exitCode(), saved::toString);
        JsonNode run = report(saved, "run");
        assertAll(saved.toString(),
                () -> assertEquals("time-reached", run.at("/exit/kind").asText()),
                () -> assertEquals(run.get("hostNanos").textValue(), run.at("/exit/hostNanos").textValue()),
                () -> assertEquals(file, run.get("snapshot").asText()),
                () -> assertTrue(run.get("serial").asText().startsWith("counter: vcpu 0 step 0\ncounter: vcpu 1 step 0\n"),
                        run.get("serial").asText()));

        Cli.Outcome inspected = Cli.run("inspect", file, "--json");
        assertEquals(0, inspected.exitCode(), inspected::toString);
        JsonNode inspect = report(inspected, "inspect");
        assertAll(inspected.toString(),
                () -> assertEquals("1767225600001006600", inspect.at("/header/hostRealtimeNanos").textValue(),
                        "the realtime at the save, exact to the ns"),
                () -> assertEquals(9, inspect.get("sections").size()),
                () -> assertTrue(inspect.get("ok").asBoolean()));

        Cli.Outcome restored = Cli.run("restore", file, "--json");
        assertEquals(0, restored.exitCode(), restored::toString);
        JsonNode restore = report(restored, "restore");
        assertAll(restored.toString(),
                () -> assertEquals("counter", restore.get("image").asText()),
                () -> assertEquals("stop", restore.get("strategy").asText()),
                () -> assertEquals("0", restore.get("downtimeNanos").textValue()),
                () -> assertEquals("exited", restore.at("/exit/kind").asText()),
                () -> assertEquals("16573", restore.get("hostNanos").textValue().substring(0, 5)),
                () -> assertEquals(run.get("serial").asText() + restore.get("serial").asText(),
                        Cli.run("run", "--image", "counter").stdout(), "the two halves print the whole run"));
    }

    @Test
    void migrateAndCompareJsonCarryTheSetupAndEveryResult() throws IOException {
        Cli.Outcome migrated = Cli.run("migrate", "--strategy", "tsc-value", "--json");
        assertEquals(0, migrated.exitCode(), migrated::toString);
        JsonNode migrate = report(migrated, "migrate");
        assertAll(migrated.toString(),
                () -> assertEquals("100000000", migrate.at("/setup/downtimeNanos").textValue()),
                () -> assertEquals(1, migrate.get("results").size()),
                () -> assertEquals("tsc-value", migrate.at("/results/0/strategy").asText()),
                () -> assertEquals(4, migrate.at("/results/0/vcpus").size()),
                () -> assertTrue(migrate.at("/results/0/vcpus/0/tscStepNs").isTextual()));

        Cli.Outcome compared = Cli.run("compare", "--no-plot", "--json");
        assertEquals(0, compared.exitCode(), compared::toString);
        JsonNode compare = report(compared, "compare");
        assertAll(compared.toString(),
                () -> assertEquals(6, compare.get("results").size()),
                () -> assertEquals("stop", compare.at("/results/0/strategy").asText()),
                () -> assertEquals("-100000000", compare.at("/results/0/vcpus/0/tscStepNs").textValue()),
                () -> assertEquals(0, compare.get("plot").size()));
    }

    @Test
    void scenarioJsonKeepsARealtimeExactToTheNanosecond(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("r.tvs");
        Files.writeString(file, "host h tsc-khz=3000000\nvm host=h vcpus=1\nhost-realtime -> now\nexpect now > 0\n");
        Cli.Outcome o = Cli.run("scenario", file.toString(), "--json");
        assertEquals(0, o.exitCode(), o::toString);
        JsonNode json = report(o, "scenario");
        assertAll(o.toString(),
                () -> assertEquals("1767225600000000054", json.at("/steps/2/results/now").textValue()),
                () -> assertEquals("1767225600000000054", json.at("/steps/2/values/0").textValue()),
                () -> assertEquals("54", json.at("/steps/2/hostNanos").textValue()),
                () -> assertEquals("0", json.at("/steps/3/values/1").textValue()));

        Cli.Outcome suite = Cli.run("scenario", file.toString(), file.toString(), "--json");
        assertEquals(0, suite.exitCode(), suite::toString);
        JsonNode reports = report(suite, "scenario").get("reports");
        assertEquals(2, reports.size());
        assertEquals("1767225600000000054", reports.get(1).at("/steps/2/results/now").textValue());
    }

    @Test
    void demoJsonSaysWhichPartsKeptTheirPromiseAndLeavesTheTextOnStderr() throws IOException {
        Cli.Outcome o = Cli.run("demo", "--json");
        assertEquals(0, o.exitCode(), o::toString);
        JsonNode json = report(o, "demo");
        List<String> parts = new ArrayList<>();
        json.get("parts").forEach(p -> parts.add(p.get("part").asText() + "=" + p.get("ok").asBoolean()));
        assertAll(o.toString(),
                () -> assertEquals(List.of("rdtsc-loop=true", "smp-hello=true", "tsc-scaling=true", "kvmclock=true",
                        "save-restore=true", "migration=true"), parts),
                () -> assertTrue(json.get("ok").asBoolean()),
                () -> assertEquals(0, json.get("failures").intValue()),
                () -> assertTrue(o.stderr().contains("demo: every part did what it promised")));
    }

    @Test
    void runJsonWithSerialToAFileLeavesTheSerialOutOfTheReport(@TempDir Path dir) throws IOException {
        Path serial = dir.resolve("serial.txt");
        Cli.Outcome o = Cli.run("run", "--image", "hello", "--serial", serial.toString(), "--json");
        assertEquals(0, o.exitCode(), o::toString);
        assertTrue(report(o, "run").get("serial").isNull(), o::toString);
        assertEquals("Hello from a tickvm guest on vCPU 0\n", Files.readString(serial));
    }

    /** Every command with a report says so in its help, and points at docs/JSON.md. */
    @ParameterizedTest
    @ValueSource(strings = {"run", "restore", "inspect", "migrate", "compare", "images", "demo", "scenario"})
    void everyCommandsHelpDescribesJson(String command) {
        String help = Cli.run(command, "--help").stdout();
        assertTrue(help.contains("[--json]") && help.contains("--json  ") && help.contains("docs/JSON.md"), help);
    }

    /** A --json before the command would be lost on it: bad usage, not a text report. */
    @Test
    void jsonBeforeTheCommandIsBadUsage() {
        Cli.Outcome o = Cli.run("--json", "images");
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertEquals("", o.stdout()),
                () -> assertEquals(List.of("tickvm: --json before the command goes with --version only; a command's"
                        + " report: tickvm COMMAND --json", "Try 'tickvm --help'."), o.errLines()));
    }

    @Test
    void withoutJsonNothingChanges() {
        Cli.Outcome o = Cli.run("run", "--image", "hello");
        assertAll(o.toString(),
                () -> assertEquals("Hello from a tickvm guest on vCPU 0\n", o.stdout()),
                () -> assertTrue(o.stderr().startsWith("tickvm: hello: guest exited with code 0")),
                () -> assertFalse(Cli.run("images").stdout().startsWith("{")));
    }
}
