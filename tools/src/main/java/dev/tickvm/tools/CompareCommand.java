package dev.tickvm.tools;

import dev.tickvm.migration.Comparison;
import dev.tickvm.migration.ComparisonPlot;
import dev.tickvm.vm.RestoreStrategy;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "compare",
        mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Migrates one VM between two simulated hosts with every restore strategy and shows, side by",
            "side, what the guest saw of its TSC, kvmclock and wall clock against true time (docs/MIGRATION.md):",
            "the step across the migration (0: the clock counted the downtime exactly; minus the downtime: it",
            "stopped), kvmclock minus TSC, the drift afterwards, cross-vCPU regressions, whether the master",
            "clock came back, and what a Linux guest would do about it. One line then explains each row from",
            "the formulas. Also a plot (PNG and SVG) of guest time minus true time around the migration."},
        footer = {"", "Examples:",
            "  ./tickvm compare                                             the demo's setup",
            "  ./tickvm compare --to tsc-khz=3000000 --ntp-error 0          same rate, synchronized hosts",
            "  ./tickvm compare --from tsc-khz=3000000,frac-bits=32 --to tsc-khz=2500000,frac-bits=32",
            "  ./tickvm compare --stagger 400ms --vcpus 8 --json > compare.json",
            "",
            "Strategies: stop (QEMU), offset-realtime (Linux vcpu.rst), tsc-value (Amazon's proposal),",
            "clock-guest (Woodhouse's series), firecracker-realtime, cloud-hypervisor."})
final class CompareCommand implements Callable<Integer> {
    @Mixin
    MigrationOptions migration;

    @Mixin
    TraceOptions trace;

    @Option(names = "--strategies", paramLabel = "NAME,...", split = ",",
            description = "The strategies to compare (default: all).")
    List<String> strategies;

    @Option(names = "--plot", paramLabel = "BASE", defaultValue = "tickvm-compare",
            description = "Write the plot to BASE.png and BASE.svg (default: ${DEFAULT-VALUE}).")
    Path plot;

    @Option(names = "--no-plot", description = "Do not write the plot.")
    boolean noPlot;

    @Option(names = "--json", description = "One JSON object on stdout instead of the table (docs/JSON.md).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<RestoreStrategy> chosen = strategies == null ? RestoreStrategy.all()
                : strategies.stream().map(RestoreStrategy::named).toList();
        var setup = migration.setup();
        Comparison comparison = trace.call(new java.io.PrintWriter(System.err, true), () -> Comparison.run(Main.unicorn(),
                setup, chosen, name -> System.err.println("tickvm: migrating with '" + name + "' ...")));
        PrintStream out = System.out;
        List<Path> written = noPlot ? List.of() : ComparisonPlot.write(comparison, plot);
        if (json) {
            var report = Json.envelope("compare");
            report.putAll(comparison.json());
            report.put("plot", written.stream().map(Path::toString).toList());
            out.println(Json.write(report));
        } else {
            print(comparison, written, out);
        }
        out.flush();
        if (out.checkError()) {
            throw new IOException("could not write to stdout");
        }
        return 0;
    }

    static void print(Comparison comparison, List<Path> plot, PrintStream out) {
        out.println("migration: " + comparison.setup().name());
        out.println("steps are each clock's error against true time after the restore minus before it, the worst vCPU;");
        out.println("kvm-TSC is how far kvmclock and the TSC parted; re-read is the guest's wall clock (its pvclock_wall_clock");
        out.println("boot time + kvmclock) if it re-read the boot time after the restore, which the restore's host-initiated");
        out.println("MSR_KVM_WALL_CLOCK write rewrote before KVM_SET_CLOCK (Linux reads it at boot only); drift is kvmclock");
        out.println("against true time afterwards; regr counts cross-vCPU readings that went back.");
        out.print(comparison.table());
        out.println();
        comparison.explanations().forEach(line -> out.println("- " + line));
        if (!plot.isEmpty()) {
            out.println();
            out.println("plot: " + String.join(", ", plot.stream().map(Path::toString).toList()));
        }
    }
}
