package dev.tickvm.tools;

import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.machine.Machine;
import dev.tickvm.machine.VmExit;
import dev.tickvm.snapshot.SnapshotException;
import dev.tickvm.vm.HostSpec;
import dev.tickvm.vm.RestoreStrategy;
import dev.tickvm.vm.VirtualMachine;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "restore",
        mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Restores a VM saved by 'tickvm run --save-at' and lets it continue.",
            "The file is checked whole before anything is built. The VM comes back on the host it was saved on,",
            "or on another (--host), after --downtime of true time, with a restore strategy (docs/TIME.md",
            "section 8; 'stop' is QEMU's default: the TSCs and kvmclock continue from their saved values).",
            "The guest's serial output goes to stdout (or --serial FILE), a summary line to stderr; the exit",
            "code is the guest's, as for 'tickvm run'. --json: one JSON object on stdout instead.",
            "A restore or a run taking over a second shows its progress on stderr, as for 'tickvm run'",
            "(--no-progress: none)."},
        footer = {"", "Examples:",
            "  ./tickvm run --image clockwatch --save-at 2s --snapshot cw.tvm",
            "  ./tickvm restore cw.tvm --downtime 10s --for 3s",
            "  ./tickvm restore cw.tvm --for 1s --json                      the summary and serial output as JSON",
            "  ./tickvm restore cw.tvm --host tsc-khz=2500000 --for 1s      another host: another TSC",
            "  ./tickvm restore cw.tvm --for 1s --trace=kvm_write_tsc_offset,kvm_set_clock",
            "                                       what the restore did (docs/TRACE.md)",
            "",
            "--host takes the keys of a scenario's host line, comma-separated: tsc-khz, tsc-hz, crystal-ppm,",
            "frac-bits, stable, tsc-scaling, tsc-at-boot, boot-epoch, ntp-offset, ntp-slew-ppb, tai-offset; the",
            "others stay the source host's. True time continues from the save's plus the downtime."})
final class RestoreCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "The snapshot file.")
    Path file;

    @Option(names = "--host", paramLabel = "KEY=VALUE,...", defaultValue = "",
            description = "Restore onto a host with these settings instead of the source's.")
    String host;

    @Option(names = "--downtime", paramLabel = "DURATION", defaultValue = "0", converter = DurationConverter.class,
            description = "True time between the save and the restore (default: 0).")
    long downtime;

    @Option(names = "--for", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Run this much host time, then stop (default: until the guest ends).")
    Long runFor;

    @Option(names = "--strategy", paramLabel = "NAME", defaultValue = "stop",
            description = "How guest time is restored: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
            completionCandidates = Strategies.class)
    String strategy;

    @Option(names = "--json", description = "One JSON object on stdout instead of the serial output and the summary,"
            + " as 'run --json' gives, with the restore's host and strategy (docs/JSON.md).")
    boolean json;

    @Mixin
    VmOptions vm;

    @Mixin
    TraceOptions trace;

    @Mixin
    ProgressOptions progress;

    /** The strategy names, for --help. */
    static final class Strategies implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return RestoreStrategy.all().stream().map(RestoreStrategy::name).iterator();
        }
    }

    @Override
    public Integer call() throws Exception {
        return trace.call(new java.io.PrintWriter(System.err, true), this::restoreAndRun);
    }

    private Integer restoreAndRun() throws IOException, SnapshotException {
        RestoreStrategy how = RestoreStrategy.named(strategy);
        Map<String, Long> overrides = HostSpec.parse(host);
        long wallStart = System.nanoTime();
        java.io.ByteArrayOutputStream serial = new java.io.ByteArrayOutputStream();
        try (VmOptions.SerialFile out = vm.openSerial(file)) {
            PrintStream stdout = System.out;
            VirtualMachine.Restored restored = VirtualMachine.restore(Main.unicorn(), file, header -> {
                Map<String, Long> settings = new LinkedHashMap<>(HostSpec.fromParameters(header.hostParameters()));
                if (overrides.containsKey("tsc-khz") && !overrides.containsKey("tsc-hz")) {
                    settings.remove("tsc-hz");
                }
                settings.putAll(overrides);
                String name = overrides.isEmpty() ? header.hostParameters().getOrDefault("name", "host") : "destination";
                long saved = header.times().trueNanos();
                if (downtime > Long.MAX_VALUE - saved) {
                    throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "--downtime %,d ns would"
                            + " take true time past 2^63-1 ns (292 years): the snapshot was saved at %,d ns", downtime,
                            saved));
                }
                VirtualClock clock = new VirtualClock(HostSpec.costs(settings), saved + downtime);
                return HostSpec.build(name, clock, settings);
            }, how, new VirtualMachine.Settings(vm.quantum, vm.budget, dev.tickvm.cpu.TrapMode.PATCH),
                    json && out == null ? serial::write : VmOptions.sink(out), progress.snapshot("restoring"));
            try (VirtualMachine machine = restored.vm()) {
                SimulatedHost h = machine.host();
                System.err.printf("tickvm: restored %s (%s, %s) on %s at true time %s with '%s'%n",
                        machine.imageName(), Words.count(machine.machine().vcpus().size(), "vCPU"),
                        file, h, Durations.format(h.trueNanos()), how.name());
                long start = machine.machine().clock().nanos();
                long until = runFor == null ? -1 : Math.addExact(start, runFor);
                VmExit exit;
                try (WorkProgress running = progress.work()) {
                    GuestRun.watch(machine.machine(), running, machine.imageName(), until);
                    exit = runFor == null ? machine.run() : machine.run(until);
                }
                stdout.flush();
                if (out != null) {
                    out.finish();
                }
                GuestRun.Result result = GuestRun.result(machine, exit, wallStart);
                if (json) {
                    Map<String, Object> report = Json.envelope("restore");
                    report.put("file", file.toString());
                    report.put("image", machine.imageName());
                    report.put("host", h.toString());
                    report.put("strategy", how.name());
                    report.put("downtimeNanos", downtime);
                    report.putAll(RunCommand.json(result, vm.serial == null ? serial : null));
                    Json.print(report, stdout);
                    return exit.exitCode();
                }
                System.err.println("tickvm: " + machine.imageName() + ": " + result.summary("virtual"));
                return exit.exitCode();
            }
        }
    }
}
