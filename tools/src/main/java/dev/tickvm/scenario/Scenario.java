package dev.tickvm.scenario;

import dev.tickvm.scenario.Statement.Step;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A parsed scenario file: its steps in file order, ready to run; a loop is one step that holds
 * the steps of its body. Parsing checks the whole file first, loop bodies included, so a
 * scenario either parses completely or not at all.
 *
 * @param file the name used in messages (the path as given)
 */
public record Scenario(String file, List<Step> steps) {

    public Scenario {
        steps = List.copyOf(steps);
    }

    /** Parses scenario text; {@code file} names it in messages. */
    public static Scenario parse(String file, String text) throws ScenarioSyntaxException {
        return ScenarioParser.parse(file, text);
    }

    /** Reads and parses a file (UTF-8). */
    public static Scenario load(Path path) throws IOException, ScenarioSyntaxException {
        return parse(path.toString(), Files.readString(path, StandardCharsets.UTF_8));
    }
}
