package dev.tickvm.tools;

import dev.tickvm.migration.Comparison;
import dev.tickvm.migration.ComparisonPlot;
import dev.tickvm.migration.MigrationResult;
import dev.tickvm.vm.RestoreStrategy;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "migrate",
        mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Migrates one VM between two simulated hosts with one restore strategy and shows what each",
            "vCPU saw of its TSC, kvmclock and wall clock against true time (docs/MIGRATION.md). 'tickvm compare'",
            "runs every strategy on the same setup."},
        footer = {"", "Examples:",
            "  ./tickvm migrate --strategy tsc-value",
            "  ./tickvm migrate --strategy stop --to tsc-khz=3000000 --downtime 2s --vcpus 2",
            "  ./tickvm migrate --strategy offset-realtime --ntp-error -50ms --stagger 10ms",
            "  ./tickvm migrate --strategy clock-guest --json          the numbers as JSON (docs/JSON.md)",
            "  ./tickvm migrate --strategy tsc-value --trace=kvm_write_tsc_offset,kvm_set_clock   (docs/TRACE.md)"})
final class MigrateCommand implements Callable<Integer> {
    @Mixin
    MigrationOptions migration;

    @Mixin
    TraceOptions trace;

    @Option(names = "--strategy", paramLabel = "NAME", defaultValue = "stop",
            description = "stop, offset-realtime, tsc-value, clock-guest, firecracker-realtime or cloud-hypervisor "
                    + "(default: ${DEFAULT-VALUE}).")
    String strategy;

    @Option(names = "--plot", paramLabel = "BASE", description = "Also write a plot to BASE.png and BASE.svg.")
    Path plot;

    @Option(names = "--json", description = "One JSON object on stdout instead of the text: compare's, with one"
            + " strategy (docs/JSON.md).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        RestoreStrategy how = RestoreStrategy.named(strategy);
        Comparison one = trace.call(new java.io.PrintWriter(System.err, true),
                () -> Comparison.run(Main.unicorn(), migration.setup(), List.of(how), name -> { }));
        PrintStream out = System.out;
        List<Path> written = plot == null ? List.of() : ComparisonPlot.write(one, plot);
        MigrationResult r = one.results().getFirst();
        if (json) {
            var report = Json.envelope("migrate");
            report.putAll(one.json());
            report.put("plot", written.stream().map(Path::toString).toList());
            Json.print(report, out);
            return r.failure() == null ? 0 : 1;
        }
        CompareCommand.print(one, written, out);
        if (r.failure() == null) {
            out.println();
            out.printf("%-5s %14s %14s %14s %14s%n", "vCPU", "TSC ms", "kvmclock ms", "kvm-TSC ms", "re-read ms");
            for (MigrationResult.Vcpu v : r.vcpus()) {
                out.printf(Locale.ROOT, "%-5d %14.6f %14.6f %14.6f %14.6f%s%n", v.vcpu(), v.tscStepNs() / 1e6,
                        v.kvmclockStepNs() / 1e6, v.disagreementNs() / 1e6, v.wallStepNs() / 1e6,
                        v.tscBack() || v.kvmclockBack() ? "  (went back)" : "");
            }
            out.printf(Locale.ROOT, "after the restore: TSC drift %d ppb, kvmclock drift %d ppb; cross-vCPU regressions"
                    + " TSC %d, kvmclock %d; master clock %s; PVCLOCK_GUEST_STOPPED %s; the VMM's KVM_GET_CLOCK step %.6f ms%n",
                    r.tscDriftPpb(), r.kvmclockDriftPpb(), r.tscRegressions(), r.kvmclockRegressions(),
                    r.masterClock() ? "on" : "off", r.guestStopped() ? "seen" : "not seen", r.vmmKvmclockStepNs() / 1e6);
        }
        return r.failure() == null ? 0 : 1;
    }
}
