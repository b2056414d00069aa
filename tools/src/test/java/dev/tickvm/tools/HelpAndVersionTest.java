package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.cpu.BlockHookKind;
import dev.tickvm.unicorn.Unicorn;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.Command;

/** --help, help COMMAND and --version: exit 0, on stdout, nothing on stderr. */
class HelpAndVersionTest {

    static Stream<Arguments> commands() {
        return Stream.of(
                Arguments.of(List.of("--help"), "Usage: tickvm [-hV]"),
                Arguments.of(List.of("run", "--help"), "Usage: tickvm run [-hV]"),
                Arguments.of(List.of("images", "--help"), "Usage: tickvm images [-hV]"),
                Arguments.of(List.of("demo", "--help"), "Usage: tickvm demo [-hV]"));
    }

    /**
     * Every command's help exits 0 and shows examples.
     */
    @ParameterizedTest
    @MethodSource("commands")
    void helpOfEachCommandExitsZeroAndShowsExamples(List<String> args, String usage) {
        Cli.Outcome o = Cli.run(args.toArray(String[]::new));
        assertAll(o.toString(),
                () -> assertEquals(0, o.exitCode()),
                () -> assertTrue(o.stdout().startsWith(usage), "starts with " + usage),
                () -> assertEquals("", o.stderr()),
                () -> assertTrue(o.stdout().contains("\nExamples:\n  ./tickvm "), "has an Examples: section"));
    }

    @Test
    void topLevelHelpListsTheExamplesAndTheExitCodes() {
        String help = Cli.run("--help").stdout();
        assertAll(help,
                () -> assertTrue(help.contains("  ./tickvm demo ")),
                () -> assertTrue(help.contains("  ./tickvm images ")),
                () -> assertTrue(help.contains("  ./tickvm run --image rdtsc-loop ")),
                () -> assertTrue(help.contains("  ./tickvm run --image smp-hello --vcpus 8 ")),
                () -> assertTrue(help.contains("Commands:\n  run ")),
                () -> assertTrue(help.contains("5 runaway guest (budget).")));
    }

    @Test
    void runHelpShowsItsExamplesAndDefaults() {
        String help = Cli.run("run", "--help").stdout();
        assertAll(help,
                () -> assertTrue(help.contains("\n  ./tickvm run --image hello\n")),
                () -> assertTrue(help.contains("\n  ./tickvm run --image rdtsc-loop --clock real\n")),
                () -> assertTrue(help.contains("\n  ./tickvm run --image smp-hello --vcpus 8 --memory 32M\n")),
                () -> assertTrue(help.contains("\n  ./tickvm run --image ./my-guest.bin --budget 1000000\n")),
                () -> assertTrue(help.contains("(default: 16M)")),
                () -> assertTrue(help.contains("(default: 1073741824)")),
                () -> assertTrue(help.contains("(default: 10000)")));
    }

    @Test
    void helpSubcommandPrintsTheSameAsDashDashHelp() {
        Cli.Outcome viaHelp = Cli.run("help", "run");
        assertEquals(0, viaHelp.exitCode());
        assertEquals(Cli.run("run", "--help").stdout(), viaHelp.stdout());
    }

    /** No command is bad usage: a few lines on stderr, the commands and where to read more; exit 2. */
    @Test
    void noArgumentsPrintsAShortUsageOnStderrAndExitsTwo() {
        Cli.Outcome o = Cli.run();
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertEquals("", o.stdout()),
                () -> assertEquals(List.of(
                        "Usage: tickvm [--verbose] [--unicorn-lib=PATH] COMMAND [ARGS...]",
                        "Commands: run, restore, inspect, migrate, compare, images, demo, scenario, help",
                        "Try './tickvm --help' for what they do, with examples, or './tickvm COMMAND --help'."),
                        o.errLines()));
    }

    /** help takes a command name and -h only: the options every other command inherits are not its. */
    @Test
    void helpOfHelpListsOnlyItsOwnOptions() {
        Cli.Outcome o = Cli.run("help", "--help");
        assertAll(o.toString(),
                () -> assertEquals(0, o.exitCode()),
                () -> assertEquals("", o.stderr()),
                () -> assertTrue(o.stdout().contains("Usage: tickvm help [-h] [COMMAND]\n")),
                () -> assertFalse(o.stdout().contains("--unicorn-lib")),
                () -> assertFalse(o.stdout().contains("--verbose")));
    }

    /**
     * The @Command descriptions and footers are wrapped by hand at about 100 columns; picocli
     * re-wraps them at its default 80, which leaves fragments such as "TICKVM_UNICORN_LIB" or
     * "bad usage," alone on a line, unless the usage width is 100 (Main sets it). A single-string
     * description is left to picocli.
     */
    @ParameterizedTest
    @ValueSource(classes = {Main.class, RunCommand.class, DemoCommand.class, ImagesCommand.class, InspectCommand.class,
        RestoreCommand.class, MigrateCommand.class, CompareCommand.class, dev.tickvm.scenario.ScenarioCommand.class})
    void helpKeepsTheHandWrappedLinesIntact(Class<?> command) {
        Command annotation = command.getAnnotation(Command.class);
        String name = annotation.name();
        String help = name.equals("tickvm") ? Cli.run("--help").stdout() : Cli.run(name, "--help").stdout();
        List<String> helpLines = help.lines().map(String::strip).toList();
        List<String> broken = new ArrayList<>();
        for (String[] block : List.of(annotation.description(), annotation.footer())) {
            if (block.length < 2) {
                continue; // a single string is meant to be wrapped by picocli
            }
            for (String line : block) {
                // picocli formats these strings: "%%" prints as "%".
                if (!line.isBlank() && !helpLines.contains(line.replace("%%", "%").strip())) {
                    broken.add(line);
                }
            }
        }
        assertEquals(List.of(), broken, "lines of " + command.getSimpleName() + " re-wrapped in:\n" + help);
    }

    @Test
    void versionPrintsTickvmUnicornJavaAndBlockHookLines() {
        Cli.Outcome o = Cli.run("--version");
        List<String> lines = o.outLines();
        assertAll(o.toString(),
                () -> assertEquals(0, o.exitCode()),
                () -> assertEquals(List.of(), o.errLines()),
                () -> assertEquals(4, lines.size()),
                // The tools classes come from target/classes here, without a jar manifest.
                () -> assertEquals("tickvm (development build)", lines.get(0)),
                () -> assertEquals(Unicorn.get().describe(), lines.get(1)),
                () -> assertTrue(lines.get(1).matches("Unicorn 2\\.\\d+\\.\\d+ \\(.+\\)"), lines.get(1)),
                () -> assertEquals("Java " + Runtime.version(), lines.get(2)),
                () -> assertEquals("Block hook: " + BlockHookKind.configured().describe(), lines.get(3)),
                () -> assertTrue(lines.get(3).matches("Block hook: (native|Java, as asked .*)"),
                        lines.get(3)));
    }

    /** Every command takes -V/--version (mixinStandardHelpOptions) and prints the same lines. */
    @Test
    void versionIsTheSameForEverySubcommand() {
        String top = Cli.run("--version").stdout();
        assertEquals(top, Cli.run("run", "--version").stdout());
        assertEquals(top, Cli.run("images", "-V").stdout());
    }
}
