package dev.tickvm.scenario;

import dev.tickvm.tools.ProgressOptions;
import dev.tickvm.tools.TraceOptions;
import dev.tickvm.tools.WorkProgress;
import dev.tickvm.unicorn.Unicorn;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tickvm scenario FILE}: runs a scenario file and reports every step. */
@Command(name = "scenario",
        mixinStandardHelpOptions = true, versionProvider = dev.tickvm.tools.Main.Version.class,
        usageHelpWidth = 100,
        description = {
            "Runs scenario files: checks of guest time in a small line-based language, step by step.",
            "A scenario builds a VM on a simulated host, drives KVM's control plane (TSC kHz, MSRs,",
            "TSC_OFFSET, the kvmclock), runs probe commands in the guest and checks exact expectations.",
            "Each step is printed with its results, each expectation with PASS or FAIL, and the last line is",
            "'N passed, M failed'. The whole file is parsed first: a syntax error (file:line:column) runs",
            "nothing. A runtime error (a KVM call failing, a missing vCPU, a guest fault) stops the run at",
            "that step. Exit code 0 all passed, 1 an expectation failed or the run stopped, 2 syntax or usage.",
            "Several files (or a directory: its *.tvs files by name) run as a suite, each on its own: a",
            "failure in one does not stop the others. After their reports come one line per file (PASS, FAIL",
            "or ERROR) and the totals, 'N passed, M failed', last; the exit code is the worst file's.",
            "--tap prints only TAP version 13 (the KVM selftests' format) and --junit writes JUnit XML for CI.",
            "A step (a loop with all its iterations) that takes over a second shows its progress on stderr:",
            "a bar on a terminal, else a line a second, 'tickvm: FILE:LINE: STEP: ...'; --no-progress: none."},
        footer = {"", "The language (one statement per line; # comments; docs/SCENARIOS.md has it all):",
            "  host NAME [tsc-khz=K tsc-hz=HZ|crystal-ppm=P frac-bits=48|32 stable=yes|no tsc-scaling=yes|no",
            "            tsc-at-boot=T ntp-offset=NS ntp-slew-ppb=N ...]   a host on the scenario's true time",
            "  set-host [NAME] ntp-offset=NS ntp-slew-ppb=N                 its NTP errors from now on",
            "  vm [host=NAME] [vcpus=N] [tsc-khz=K] [quantum=BLOCKS] [boot=no]   the one VM (boot=no: no vCPU",
            "                                           has entered the guest yet)",
            "  advance 1s                               true time (ns us ms s; a bare number is ns)",
            "  host-tsc  host-raw  host-ns  host-realtime  host-tai  true-ns -> v   the host's TSC and clocks",
            "  set-tsc-khz CPU K       get-tsc-khz CPU -> k       KVM_SET/GET_TSC_KHZ on a vCPU",
            "  set-msr CPU MSR V       get-msr CPU MSR -> v       host-initiated KVM_SET/GET_MSRS",
            "  set-attr CPU tsc-offset V    get-attr CPU tsc-offset -> v    KVM_VCPU_TSC_CTRL attributes",
            "  set-vm tsc-khz K    get-vm tsc-khz|tsc-generation|vcpus-matched|master-clock -> v",
            "  get-vcpu CPU tsc-generation|tsc-ratio|pvclock-hz|pending-requests|tsc-catchup|has-run -> v",
            "  guest CPU rdtsc -> t | rdtscp -> t aux | rdmsr MSR -> v | wrmsr MSR V",
            "  guest CPU cpuid LEAF [SUB] -> a b c d | spin CYCLES -> first last",
            "  guest CPU batch N -> count min max regressions | guest all sync CYCLES -> regressions",
            "  let NAME = EXPR        integers: + - * / %% << >> & | ~ ( ); 0x.., 1_000, 1s = 1,000,000,000",
            "  expect A == B [+- T]   also != < <= > >=, chained: expect lo <= x <= hi",
            "  expect-error EINVAL|ENOENT|ENXIO|...|fault STEP      the step must fail that way",
            "  print EXPR [, EXPR:x]                    decimal, 3,000,000; ':x' shows that value in hex",
            "  repeat N {                   for i in A..B {        loops: the body on the next lines up to a",
            "      ...                          ...                '}' line; A..B inclusive; 4 deep at most;",
            "  }                            }                      at most 100,000 steps run; no host, vm,",
            "                                           pause, resume, save, restore, migrate or watch inside",
            "  sample SRC[, SRC ...] every 100ms for 5s -> FILE.csv   advance the host by 100 ms 50 times and",
            "                                           write a CSV row each time: true_ns, then each SRC, one of",
            "                                           host-tsc host-ns host-raw host-realtime host-tai true-ns",
            "                                           get-clock, get-msr CPU MSR, get-vcpu CPU KEY,",
            "                                           get-attr CPU ATTRIBUTE;",
            "                                           FILE is relative to the scenario file's directory",
            "Frequencies (host tsc-khz= tsc-hz=, vm tsc-khz=, set-tsc-khz, set-vm tsc-khz) take Hz kHz MHz GHz,",
            "converted exactly: 2.5GHz, 1500MHz, 3_000_000kHz, 2_999_999_500Hz (not whole kHz: an error for kHz).",
            "kvmclock (docs/TIME.md sections 6, 7 and 10: KVM applies clock updates at a vCPU's next entry):",
            "  enable-kvmclock CPU|all                  the guest writes MSR_KVM_SYSTEM_TIME_NEW",
            "  get-clock -> clock [flags realtime host_tsc]          KVM_GET_CLOCK",
            "  set-clock CLOCK [realtime=NS] [flags=F]  KVM_SET_CLOCK (flags REALTIME when realtime= is given)",
            "  get-pvclock CPU -> version tsc_timestamp system_time mul shift flags   the page, from guest RAM",
            "  set-vm pvclock-mode kvm-compat|exact     how the pvclock page is computed",
            "  get-vm use-master-clock|kvmclock-offset|clock-update-due|clock-sync-due -> v",
            "  kvmclock-ctrl CPU|all                    KVM_KVMCLOCK_CTRL: PVCLOCK_GUEST_STOPPED on the page",
            "  pause   ...   resume                     stop the VM and run it again (QEMU's kvmclock device)",
            "  guest CPU kvmclock [trust|clamp|raw] -> ns retries flags clamped tsc   read as Linux does",
            "  guest CPU wallclock -> sec nsec version retries",
            "  guest CPU|all kvmclock-sync READS [trust|clamp|raw] -> regressions clamps largest retries",
            "  guest CPU torn-kvmclock WRITER DELAY_CYCLES -> ns retries   a read that must retry",
            "  guest CPU watch-start [tsc|trust|clamp|raw] [THRESHOLD]   the clockwatch loop, left running",
            "  guest CPU watch-stop -> jumps backs max_step max_back kvmclock_jumps ...   what it saw meanwhile",
            "CPU is a vCPU index or 'all' (gets bind min and max); MSR is IA32_TSC, IA32_TSC_ADJUST, TSC_AUX",
            "or a number. Arguments are numbers, variables or (expressions). Values are signed 64-bit.",
            "Constants: TSC_STABLE=2 REALTIME=4 HOST_TSC=8 (KVM_GET_CLOCK flags; also KVM_CLOCK_TSC_STABLE...),",
            "PVCLOCK_TSC_STABLE_BIT=1 PVCLOCK_GUEST_STOPPED=2 (the pvclock page's flags),",
            "REQ_MASTERCLOCK_UPDATE=4 REQ_GLOBAL_CLOCK_UPDATE=2 REQ_CLOCK_UPDATE=1 (pending-requests).",
            "",
            "Example (guest TSC at 2.5 GHz on a 3 GHz host):",
            "  host src tsc-khz=3000000",
            "  vm host=src vcpus=1 tsc-khz=2500000",
            "  get-msr 0 IA32_TSC -> t0",
            "  advance 1s",
            "  get-msr 0 IA32_TSC -> t1",
            "  expect t1 - t0 == 2_500_000_000",
            "  host-tsc -> h0",
            "  guest 0 rdtsc -> g",
            "  host-tsc -> h1",
            "  expect (h0 * 5 - 1) / 6 <= g <= (h1 * 5 - 1) / 6",
            "",
            "Example (kvmclock: kvm_clock_test's check, and a pause that kvmclock does not count):",
            "  vm vcpus=1",
            "  enable-kvmclock 0",
            "  host-realtime -> now",
            "  set-clock 0 realtime=(now - 180s)",
            "  get-clock -> start flags",
            "  guest 0 kvmclock -> ns",
            "  get-clock -> end",
            "  expect start == 180s",
            "  expect start <= ns <= end",
            "  expect (flags & (REALTIME | HOST_TSC)) == REALTIME | HOST_TSC",
            "  pause",
            "  advance 30s",
            "  resume",
            "  get-clock -> after",
            "  expect after == end",
            "",
            "Examples:",
            "  ./tickvm scenario scenarios/tsc_msrs_test.tvs",
            "  ./tickvm scenario scenarios/                       every shipped scenario, then a summary",
            "  ./tickvm scenario scenarios/ --tap --junit scenarios.xml   TAP on stdout, JUnit XML for CI",
            "  ./tickvm scenario scenarios/tsc_scaling_sync.tvs --json",
            "  ./tickvm scenario scenarios/kvm_clock_test.tvs",
            "  ./tickvm scenario scenarios/kvm_clock_test.tvs --trace=kvm_set_clock,kvm_pvclock_update",
            "  ./tickvm scenario scenarios/tsc_msrs_test.tvs --trace --trace-file tsc.trace   (docs/TRACE.md)"})
public final class ScenarioCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "FILE|DIR",
            description = "Scenario files (.tvs), or directories: their *.tvs files, by name (not recursive).")
    List<Path> paths;

    @Option(names = "--json", description = "Print a JSON report of every step instead of the text (several files:"
            + " one object with the reports and the totals) (docs/JSON.md).")
    boolean json;

    @Option(names = "--tap", description = "Print TAP version 13 instead: one 'ok' or 'not ok' line per file, '# '"
            + " lines saying why.")
    boolean tap;

    @Option(names = "--junit", paramLabel = "XML",
            description = "Also write JUnit XML: one testcase per file, a failure or an error for each that failed.")
    Path junit;

    @CommandLine.Mixin
    TraceOptions trace;

    @CommandLine.Mixin
    ProgressOptions progress;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Whether a file's report has put anything on stdout yet: the next one is set off by a blank line. */
    private boolean printed;
    /** Whether the file being run has put anything on stdout yet. */
    private boolean started;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (json && tap) {
            err.println("tickvm: --json and --tap are two outputs on stdout: choose one");
            return 2;
        }
        if (junit != null) {
            Path parent = junit.toAbsolutePath().getParent();
            if (parent == null || !Files.isDirectory(parent) || Files.isDirectory(junit)) {
                err.println("tickvm: cannot write the JUnit XML to " + junit
                        + (Files.isDirectory(junit) ? ": a directory" : ": no such directory"));
                return 2;
            }
        }
        List<Path> files = new ArrayList<>();
        boolean suite = paths.size() > 1;
        for (Path path : paths) {
            if (Files.isDirectory(path)) {
                suite = true;
                List<Path> found;
                try (Stream<Path> listed = Files.list(path)) {
                    found = listed.filter(p -> p.getFileName().toString().endsWith(".tvs") && Files.isRegularFile(p))
                            .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
                }
                if (found.isEmpty()) {
                    err.println("tickvm: no scenario files (*.tvs) in " + path);
                    return 2;
                }
                files.addAll(found);
            } else if (Files.isRegularFile(path)) {
                if (!Files.isReadable(path)) {
                    err.println("tickvm: " + path + ": cannot read it: permission denied");
                    return 2;
                }
                files.add(path);
            } else if (Files.exists(path)) {
                // /dev/null, a FIFO: "no such scenario file" would be wrong.
                err.println("tickvm: " + path + ": not a regular file (" + dev.tickvm.tools.FileProblems.kind(path)
                        + "); give a scenario file (*.tvs) or a directory of them");
                return 2;
            } else {
                err.println("tickvm: no such scenario file: " + path);
                return 2;
            }
        }
        boolean text = !json && !tap;
        printed = false;
        List<ScenarioReport> reports = new ArrayList<>();
        try (WorkProgress work = progress.work(err)) {
            trace.call(err, () -> {
                for (Path file : files) {
                    reports.add(runOne(file, text, out, err, work));
                }
                return null;
            });
        }
        if (json) {
            out.println(suite ? ReportWriter.json(reports) : ReportWriter.json(reports.getFirst()));
        } else if (tap) {
            SuiteWriter.tap(reports).forEach(out::println);
        } else if (suite) {
            if (printed) {
                out.println();
            }
            SuiteWriter.summary(reports).forEach(out::println);
        }
        out.flush();
        err.flush();
        if (junit != null) {
            try {
                SuiteWriter.junit(reports, junit);
            } catch (IOException e) {
                err.println("tickvm: cannot write the JUnit XML to " + junit + ": " + e);
                err.flush();
                return Math.max(1, SuiteWriter.exitCode(reports));
            }
        }
        return SuiteWriter.exitCode(reports);
    }

    /**
     * Parses and runs one file on its own: a syntax error, a runtime error or even an unexpected
     * exception ends up in its report, never stopping the files after it. With {@code text}, the
     * steps and the footer are printed as they come, syntax errors go to stderr.
     */
    private ScenarioReport runOne(Path file, boolean text, PrintWriter out, PrintWriter err, WorkProgress work) {
        started = false;
        long start = System.nanoTime();
        Scenario scenario;
        try {
            scenario = Scenario.load(file);
        } catch (ScenarioSyntaxException e) {
            if (text) {
                e.errors().forEach(error -> err.println(error.withContext()));
                err.println("tickvm: " + file + ": " + e.errors().size() + " syntax error"
                        + (e.errors().size() == 1 ? "" : "s") + "; nothing ran");
                err.flush();
            }
            return ScenarioReport.notParsed(file.toString(), e.errors());
        } catch (NotTextException e) {
            // Bad input like a syntax error: nothing ran, exit 2, and JSON or TAP say where.
            if (text) {
                err.println("tickvm: " + file + ": " + e.getMessage() + "; nothing ran");
                err.flush();
            }
            return ScenarioReport.notParsed(file.toString(), List.of(new ScenarioSyntaxException.SyntaxError(
                    file.toString(), e.line(), e.column(), e.what(), "")));
        } catch (IOException e) {
            return broken(file, "cannot read it: " + dev.tickvm.tools.FileProblems.reason(e), start, text, err);
        } catch (RuntimeException e) {
            return broken(file, "cannot read it: " + e, start, text, err);
        }
        try {
            ScenarioReport report = new ScenarioRunner(this::unicorn).progress(work).run(scenario, step -> {
                if (text) {
                    startReport(out);
                    out.println(ReportWriter.line(step));
                    out.flush();
                }
            });
            if (text) {
                startReport(out);
                ReportWriter.footer(report).forEach(out::println);
                out.flush();
            }
            return report;
        } catch (RuntimeException e) {
            return broken(file, "the run failed: " + e, start, text, err);
        }
    }

    /** Before a file's first line on stdout: a blank line if an earlier file printed. */
    private void startReport(PrintWriter out) {
        if (printed && !started) {
            out.println();
        }
        printed = true;
        started = true;
    }

    /** The report of a file that could not be read or whose run broke outside any step. */
    private static ScenarioReport broken(Path file, String why, long start, boolean text, PrintWriter err) {
        String message = file + ": " + why;
        if (text) {
            err.println("tickvm: " + message);
            err.flush();
        }
        return new ScenarioReport(file.toString(), false, 0, 1, List.of(),
                new ScenarioReport.Stop(0, 0, "", message), List.of(), System.nanoTime() - start);
    }

    /** The engine: --unicorn-lib (inherited from the top-level command) if given, else the default. */
    private Unicorn unicorn() {
        return dev.tickvm.tools.Main.unicorn();
    }
}
