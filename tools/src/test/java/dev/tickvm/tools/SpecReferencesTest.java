package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The project carries its own specification: every "TIME.md section N" in the code, the
 * scenarios and the docs names a section docs/TIME.md has, and nothing points outside the
 * repository for it.
 */
class SpecReferencesTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern REFERENCE = Pattern.compile("TIME\\.md'?s? sections? ([0-9][0-9, and]*)");
    private static final Pattern NUMBER = Pattern.compile("[0-9]+");

    @Test
    void everySectionReferenceResolves() throws IOException {
        Set<Integer> sections = new TreeSet<>();
        Matcher heading = Pattern.compile("(?m)^## ([0-9]+)\\. ").matcher(Files.readString(ROOT.resolve("docs/TIME.md")));
        while (heading.find()) {
            sections.add(Integer.parseInt(heading.group(1)));
        }
        assertEquals(14, sections.size(), sections::toString);
        List<String> dangling = new ArrayList<>();
        int references = 0;
        for (Path file : sources()) {
            String text = Files.readString(file, StandardCharsets.UTF_8).replaceAll("\\s+", " ");
            Matcher m = REFERENCE.matcher(text);
            while (m.find()) {
                Matcher n = NUMBER.matcher(m.group(1));
                while (n.find()) {
                    references++;
                    if (!sections.contains(Integer.parseInt(n.group()))) {
                        dangling.add(ROOT.relativize(file) + ": " + m.group());
                    }
                }
            }
        }
        assertTrue(references > 40, "found only " + references + " references");
        assertEquals(List.of(), dangling);
    }

    @Test
    void nothingCitesTheOriginalDesignNotesOutsideTheRepository() throws IOException {
        List<String> outside = new ArrayList<>();
        for (Path file : sources()) {
            // Spelled in two parts so that this file does not match itself.
            if (Files.readString(file, StandardCharsets.UTF_8).contains("shared/" + "design")) {
                outside.add(ROOT.relativize(file).toString());
            }
        }
        assertEquals(List.of(), outside);
    }

    private static List<Path> sources() throws IOException {
        try (Stream<Path> files = Files.walk(ROOT)) {
            return files.filter(Files::isRegularFile)
                    .filter(p -> !p.toString().contains("/target/") && !p.toString().contains("/.git/"))
                    .filter(p -> p.toString().matches(".*\\.(java|md|tvs|sh|S)$"))
                    .toList();
        }
    }
}
