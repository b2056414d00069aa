package dev.tickvm.tools;

import dev.tickvm.cpu.BlockHookKind;
import dev.tickvm.cpu.NativeBlockHook;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.unicorn.UnicornVersion;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The tickvm command line. */
@Command(name = "tickvm",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = {
            "A lab for guest time: runs tiny x86-64 guests on the Unicorn emulator and virtualizes their",
            "TSC and kvmclock the way KVM does, on a simulated host clock that makes every run reproducible."},
        subcommands = {RunCommand.class, RestoreCommand.class, InspectCommand.class, MigrateCommand.class,
            CompareCommand.class,
            ImagesCommand.class, DemoCommand.class,
            dev.tickvm.scenario.ScenarioCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Examples:",
            "  ./tickvm demo                                  what tickvm does, in a few seconds",
            "  ./tickvm images                                the guest images built in",
            "  ./tickvm run --image rdtsc-loop                1,000,000 trapped RDTSCs",
            "  ./tickvm run --image smp-hello --vcpus 8       eight vCPUs, round-robin",
            "  ./tickvm run --image clockwatch --save-at 2s --snapshot cw.tvm   save a running VM",
            "  ./tickvm restore cw.tvm --downtime 10s --for 1s                  and let it continue",
            "  ./tickvm inspect cw.tvm                        what a snapshot file holds",
            "  ./tickvm compare                               every restore strategy on one migration",
            "  ./tickvm scenario scenarios/tsc_msrs_test.tvs  a KVM selftest as a scenario",
            "  ./tickvm scenario scenarios/ --tap             all of them, as TAP",
            "  ./tickvm run --image hello --json              any report as one JSON object (docs/JSON.md)",
            "",
            "Unicorn: ./tickvm installs 2.1.4 from Debian forky (trixie's 2.1.1 if that fails) into",
            "~/.cache/tickvm; --unicorn-lib or TICKVM_UNICORN_LIB loads another libunicorn.so.2.",
            "Exit codes: the guest's own on a debug exit, 2 bad usage, 1 other errors, 3 all vCPUs halted,",
            "4 guest fault, 5 runaway guest (budget).",
            "Block hook: native when built (the default); TICKVM_BLOCK_HOOK=java forces the Java fallback,",
            "about ten times slower on short blocks, same results bit for bit; --version says which."})
public final class Main implements Callable<Integer> {

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Show stack traces of errors.")
    boolean verbose;

    @Option(names = "--unicorn-lib", scope = ScopeType.INHERIT, paramLabel = "PATH",
            description = "libunicorn.so.2 to load instead of $" + Unicorn.LIBRARY_ENV + " or the system's.")
    void unicornLibrary(Path path) {
        unicornLibrary = path;
    }

    private static Path unicornLibrary;

    @Option(names = "--json", description = "With --version: the versions as one JSON object (docs/JSON.md).")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private static boolean warned;
    private static boolean warnedHook;

    /**
     * The Unicorn to use: --unicorn-lib if given, else the process default. Warns once on
     * stderr when it has known defects ({@link #defectWarning}).
     */
    public static Unicorn unicorn() {
        Unicorn unicorn = unicornLibrary != null ? Unicorn.useLibrary(unicornLibrary) : Unicorn.get();
        // Refuses a bad TICKVM_BLOCK_HOOK before any VM is built, and says when guests will be slow.
        BlockHookKind hook = BlockHookKind.configured();
        if (hook == BlockHookKind.JAVA && !NativeBlockHook.available() && !warnedHook) {
            warnedHook = true;
            System.err.println("tickvm: note: the native block hook is unavailable (" + NativeBlockHook.problem()
                    + "): guests run on the Java one, about ten times slower");
        }
        String warning = defectWarning(unicorn.version(), unicorn.describe());
        if (warning != null && !warned) {
            warned = true;
            System.err.println(warning);
        }
        return unicorn;
    }

    /**
     * The one-line warning for a Unicorn with known defects, or null: 2.0.x aborts the process on
     * some invalid guest code; 2.1.0 and 2.1.1 miss some self-modifying code
     * ({@link dev.tickvm.unicorn.UnicornVersion#missesStoresIntoTranslatedCode}).
     */
    static String defectWarning(UnicornVersion version, String described) {
        if (version.hasKnown201Defects()) {
            return "tickvm: warning: " + described + " has known defects: it can abort the whole"
                    + " process on some invalid guest code and stores to guest memory 2-3x slower; ./tickvm installs 2.1.x";
        }
        if (version.missesStoresIntoTranslatedCode()) {
            return "tickvm: warning: " + described + " misses some self-modifying code: a store into translated code"
                    + " after another store to its page; ./tickvm installs 2.1.4";
        }
        return null;
    }

    /** No command: a short usage on stderr and exit 2 (bad usage); --help has the whole story. */
    @Override
    public Integer call() {
        spec.commandLine().getErr().print(shortUsage(spec));
        spec.commandLine().getErr().flush();
        return 2;
    }

    /** The few lines ./tickvm prints without a command: how to call it and the commands. */
    static String shortUsage(CommandLine.Model.CommandSpec spec) {
        // Distinct commands, in the order of the help (an alias would appear twice in the map).
        String commands = spec.subcommands().values().stream().distinct()
                .map(CommandLine::getCommandName).collect(Collectors.joining(", "));
        return "Usage: tickvm [--verbose] [--unicorn-lib=PATH] COMMAND [ARGS...]\n"
                + "Commands: " + commands + "\n"
                + "Try './tickvm --help' for what they do, with examples, or './tickvm COMMAND --help'.\n";
    }

    public static void main(String[] args) {
        StdoutFd.install();
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (for tests). */
    public static int execute(String... args) {
        // One execution's --unicorn-lib must not leak into the next in the same JVM.
        unicornLibrary = null;
        warned = false;
        warnedHook = false;
        CommandLine cl = commandLine();
        // One writer for every command, over System.out: a PrintStream never throws, so a closed
        // pipe or a full disk shows only in its error flag, checked once the command is done.
        PrintWriter out = new PrintWriter(System.out, true);
        cl.setOut(out);
        int code = cl.execute(args);
        out.flush();
        if (System.out.checkError()) {
            System.err.println("tickvm: could not write to stdout (a closed pipe or a full disk); the output is"
                    + " incomplete");
            return code == 0 ? 1 : code;
        }
        return code;
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        // Descriptions and footers are written for 100 columns; picocli's 80 would re-wrap them.
        cl.setUsageHelpWidth(100);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            boolean verbose = parsed.matchedOptionValue("--verbose", false)
                    || parsed.subcommands().stream().anyMatch(p -> p.matchedOptionValue("--verbose", false));
            if (verbose) {
                e.printStackTrace(cmd.getErr());
            }
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof VmOptions.StdoutGone) {
                    return 1; // execute() reports it, after the command
                }
            }
            if (e instanceof ArithmeticException) {
                // Math.*Exact on an option's value ("long overflow" alone says nothing of which).
                cmd.getErr().println("tickvm: a time or count computed from the options would pass the 64-bit range"
                        + " (2^63-1; as nanoseconds, 292 years): use smaller values");
                return 2;
            }
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            cmd.getErr().println("tickvm: " + message);
            return e instanceof IllegalArgumentException ? 2 : 1;
        });
        // --verbose and --unicorn-lib are inherited by every command, but help neither loads
        // Unicorn nor fails: listed there they only puzzle.
        CommandLine.Model.CommandSpec help = cl.getSubcommands().get("help").getCommandSpec();
        for (String name : List.of("--verbose", "--unicorn-lib")) {
            help.remove(help.findOption(name));
        }
        // --version --json (on any command that has --json): the versions as JSON, not as lines.
        cl.setExecutionStrategy(parsed -> {
            for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
                if (p.isVersionHelpRequested() && p.hasMatchedOption("--json")) {
                    try {
                        Json.print(Version.json(), System.out);
                    } catch (java.io.IOException e) {
                        throw new CommandLine.ExecutionException(p.commandSpec().commandLine(), e.getMessage(), e);
                    }
                    return 0;
                }
            }
            if (parsed.hasMatchedOption("--json")) {
                throw new CommandLine.ParameterException(parsed.commandSpec().commandLine(),
                        "--json before the command goes with --version only; a command's report: tickvm COMMAND --json");
            }
            return new CommandLine.RunLast().execute(parsed);
        });
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine cmd = e.getCommandLine();
            cmd.getErr().println("tickvm: " + describe(e));
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help'.");
            return 2;
        });
        return cl;
    }

    /**
     * A parse error in words: picocli's message, except for arguments it could not place (an
     * unknown command or option, a stray argument), which are named first, with the nearest
     * commands or options when some are close. picocli reports a missing required option ahead
     * of an unknown one, but in "run --imag hello" the typo is the news, not the missing --image.
     */
    static String describe(CommandLine.ParameterException e) {
        CommandLine cmd = e.getCommandLine();
        List<String> unmatched = e instanceof CommandLine.UnmatchedArgumentException u ? u.getUnmatched()
                : cmd.getUnmatchedArguments();
        if (unmatched.isEmpty()) {
            return e.getMessage();
        }
        boolean option = unmatched.getFirst().startsWith("-") && unmatched.getFirst().length() > 1;
        // An unknown --name=value is about the name.
        String first = option ? unmatched.getFirst().split("=", 2)[0] : unmatched.getFirst();
        // A word where a command was expected: only the top level takes commands.
        boolean command = !option && !cmd.getSubcommands().isEmpty() && cmd.getCommandSpec().parent() == null;
        if (!option && !command) {
            return "unexpected argument '" + first + "'";
        }
        String what = (option ? "unknown option '" : "unknown command '") + first + "'";
        List<String> names = option
                ? cmd.getCommandSpec().options().stream().flatMap(o -> Arrays.stream(o.names())).toList()
                : List.copyOf(cmd.getSubcommands().keySet());
        List<String> suggestions = nearest(first, names);
        return suggestions.isEmpty() ? what : what + "; did you mean '" + String.join("' or '", suggestions) + "'?";
    }

    /**
     * The names a mistyped word may have meant, nearest first, at most three: those it begins
     * (an abbreviation) and those at most two edits away (one for words of three letters or
     * less, none for a single letter).
     */
    static List<String> nearest(String typed, List<String> names) {
        int letters = typed.replaceFirst("^-+", "").length();
        int limit = letters <= 1 ? 0 : letters <= 3 ? 1 : 2;
        return names.stream().distinct()
                .filter(n -> n.length() > typed.length() && n.startsWith(typed) && !typed.matches("-*")
                        || editDistance(typed, n) <= limit)
                .sorted(Comparator.comparingInt((String n) -> editDistance(typed, n)).thenComparing(n -> n))
                .limit(3).toList();
    }

    /** Levenshtein distance: insertions, deletions and substitutions, one each. */
    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    /** --version: tickvm, Unicorn (if loadable) and Java. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String own = Main.class.getPackage().getImplementationVersion();
            String engine;
            try {
                engine = unicorn().describe();
            } catch (RuntimeException e) {
                engine = "Unicorn not loadable: " + e.getMessage();
            }
            return new String[] {"tickvm " + (own == null ? "(development build)" : own), engine,
                "Java " + Runtime.version(), blockHook()};
        }

        /** Which block hook guests run on, and why when it is the fallback. */
        private static String blockHook() {
            try {
                return "Block hook: " + BlockHookKind.configured().describe();
            } catch (IllegalArgumentException e) {
                return "Block hook: " + e.getMessage();
            }
        }

        /** --version --json: the envelope, where the library was loaded from, and Java. */
        static java.util.Map<String, Object> json() {
            java.util.Map<String, Object> m = Json.envelope("version");
            String library;
            try {
                library = unicorn().source();
            } catch (RuntimeException e) {
                library = null;
            }
            m.put("unicornLibrary", library);
            m.put("java", Runtime.version().toString());
            String hook;
            try {
                hook = BlockHookKind.configured().name().toLowerCase(java.util.Locale.ROOT);
            } catch (IllegalArgumentException e) {
                hook = null;
            }
            m.put("blockHook", hook);
            m.put("nativeBlockHookProblem", NativeBlockHook.problem());
            return m;
        }
    }
}
