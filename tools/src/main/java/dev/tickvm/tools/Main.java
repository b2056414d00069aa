package dev.tickvm.tools;

import dev.tickvm.unicorn.Unicorn;
import java.nio.file.Path;
import java.util.concurrent.Callable;
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
            "",
            "Unicorn: ./tickvm installs 2.1.x into ~/.cache/tickvm; --unicorn-lib or TICKVM_UNICORN_LIB",
            "loads another libunicorn.so.2. Exit codes: the guest's own on a debug exit, 2 bad usage,",
            "1 other errors, 3 all vCPUs halted, 4 guest fault, 5 runaway guest (budget)."})
public final class Main implements Callable<Integer> {

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Show stack traces of errors.")
    boolean verbose;

    @Option(names = "--unicorn-lib", scope = ScopeType.INHERIT, paramLabel = "PATH",
            description = "libunicorn.so.2 to load instead of $" + Unicorn.LIBRARY_ENV + " or the system's.")
    void unicornLibrary(Path path) {
        unicornLibrary = path;
    }

    private static Path unicornLibrary;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private static boolean warned;

    /**
     * The Unicorn to use: --unicorn-lib if given, else the process default. Warns once on
     * stderr when it is a 2.0.x with known defects.
     */
    public static Unicorn unicorn() {
        Unicorn unicorn = unicornLibrary != null ? Unicorn.useLibrary(unicornLibrary) : Unicorn.get();
        if (unicorn.version().hasKnown201Defects() && !warned) {
            warned = true;
            System.err.println("tickvm: warning: " + unicorn.describe() + " has known defects: it can abort the whole"
                    + " process on some invalid guest code and stores to guest memory 2-3x slower; ./tickvm installs 2.1.x");
        }
        return unicorn;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (for tests). */
    public static int execute(String... args) {
        // One execution's --unicorn-lib must not leak into the next in the same JVM.
        unicornLibrary = null;
        warned = false;
        CommandLine cl = commandLine();
        return cl.execute(args);
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
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            cmd.getErr().println("tickvm: " + message);
            return e instanceof IllegalArgumentException ? 2 : 1;
        });
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine cmd = e.getCommandLine();
            cmd.getErr().println("tickvm: " + e.getMessage());
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help'.");
            return 2;
        });
        return cl;
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
                "Java " + Runtime.version()};
        }
    }
}
