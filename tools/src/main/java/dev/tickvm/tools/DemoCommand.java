package dev.tickvm.tools;

import dev.tickvm.host.CostModel;
import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.images.GuestImages;
import dev.tickvm.kvm.ClockData;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.PvclockMode;
import dev.tickvm.lab.Lab;
import dev.tickvm.machine.VmExit;
import dev.tickvm.migration.Comparison;
import dev.tickvm.migration.ComparisonPlot;
import dev.tickvm.migration.MigrationSetup;
import dev.tickvm.vm.RestoreStrategy;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.snapshot.SnapshotIoException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Shows what tickvm does, in six parts, all on the virtual host clock (so the numbers are the",
            "same on every run): 1,000,000 trapped RDTSCs; four vCPUs round-robin; a guest TSC scaled to 2.5 GHz",
            "on a 3 GHz host; kvmclock read by the guest as Linux reads it, its master clock, and the drift of",
            "KVM's kHz-based pvclock scale; clockwatch saved, 10 s of downtime, restored by a child JVM, and what",
            "it saw of its own clocks; and one migration from a 3.0 GHz host to a 2.5 GHz one with every restore",
            "strategy side by side, explained, with a plot."},
        footer = {"", "Examples:",
            "  ./tickvm demo",
            "  ./tickvm demo --unicorn-lib /usr/lib/x86_64-linux-gnu/libunicorn.so.2   on another Unicorn",
            "  ./tickvm demo --json > demo.json        the text on stderr, each part's outcome as JSON on stdout",
            "", "More: ./tickvm scenario scenarios/*.tvs runs the KVM selftests re-expressed as scenarios, one",
            "after the other with a summary; ./tickvm scenario scenarios/ --tap runs them as TAP, as the",
            "selftests report."})
final class DemoCommand implements Callable<Integer> {
    private static final long SECOND = 1_000_000_000L;

    @Option(names = "--json", description = "The text goes to stderr; stdout has one JSON object: each part's name,"
            + " whether it did what it promised, and its failed checks (docs/JSON.md).")
    boolean json;

    @Override
    public Integer call() throws IOException {
        Unicorn unicorn = Main.unicorn();
        PrintStream out = json ? System.err : System.out;
        out.println("tickvm demo on " + unicorn.describe());
        Map<String, Integer> parts = new LinkedHashMap<>();
        parts.put("rdtsc-loop", image(out, "rdtsc-loop", 1));
        parts.put("smp-hello", image(out, "smp-hello", 4));
        parts.put("tsc-scaling", tscScaling(out, unicorn));
        parts.put("kvmclock", kvmclock(out, unicorn));
        parts.put("save-restore", saveRestore(out));
        parts.put("migration", compare(out, unicorn));
        int failures = parts.values().stream().mapToInt(Integer::intValue).sum();
        out.println();
        out.println(failures == 0 ? "demo: every part did what it promised" : "demo: " + failures + " part(s) failed");
        if (json) {
            Map<String, Object> report = Json.envelope("demo");
            List<Map<String, Object>> list = new ArrayList<>();
            parts.forEach((name, failed) -> {
                Map<String, Object> part = new LinkedHashMap<>();
                part.put("part", name);
                part.put("ok", failed == 0);
                part.put("failures", failed);
                list.add(part);
            });
            report.put("parts", list);
            report.put("ok", failures == 0);
            report.put("failures", failures);
            Json.print(report, System.out);
        }
        return failures == 0 ? 0 : 1;
    }

    private static int image(PrintStream out, String name, int vcpus) {
        out.println();
        out.println("== " + name + " on " + vcpus + " vCPU" + (vcpus == 1 ? "" : "s") + ": "
                + GuestImages.require(name).description());
        GuestRun.Result r = new GuestRun(GuestImages.require(name)).vcpus(vcpus).run(out::write);
        out.flush();
        out.println("-- " + r.summary("virtual"));
        return r.exit() instanceof VmExit.Exited e && e.code() == 0 ? 0 : 1;
    }

    /** A 2.5 GHz guest on a 3 GHz host: the ratio, and what one second of host time gives the guest. */
    private static int tscScaling(PrintStream out, Unicorn unicorn) {
        out.println();
        out.println("== TSC scaling: a 2.5 GHz guest on a 3 GHz host (KVM_SET_TSC_KHZ before the vCPU exists)");
        VirtualClock clock = new VirtualClock();
        try (Lab lab = Lab.create(unicorn, SimulatedHost.standard("host", clock), 1, 2_500_000)) {
            KvmVcpu vcpu = lab.kvm().vcpu(0);
            lab.rdtsc(0);
            long first = lab.rdtsc(0);
            long second = lab.rdtsc(0);
            clock.advance(SECOND);
            long third = lab.rdtsc(0);
            long command = second - first;
            long after = third - second - command;
            out.printf("ratio 0x%x (48 fractional bits); one probe command takes %,d guest cycles; across one"
                    + " host second the guest TSC moved %,d more%n", vcpu.tscRatio(), command, after);
            boolean ok = vcpu.tscRatio() == 0xD55555555555L && Math.abs(after - 2_500_000_000L) <= 1;
            out.println("-- guest TSC advanced 2.5e9 cycles per host second: " + (ok ? "yes" : "NO"));
            return ok ? 0 : 1;
        }
    }

    /** kvmclock through the probe, bracketed by KVM_GET_CLOCK; the 4-vCPU monotonicity loop; the drift. */
    private static int kvmclock(PrintStream out, Unicorn unicorn) {
        out.println();
        out.println("== kvmclock: 4 vCPUs enable it, the guest reads it like Linux's pvclock_clocksource_read");
        int failures = 0;
        VirtualClock clock = new VirtualClock();
        try (Lab lab = Lab.create(unicorn, SimulatedHost.standard("host", clock), 4, 0)) {
            for (int i = 0; i < 4; i++) {
                lab.enableKvmclock(i);
            }
            clock.advance(SECOND);
            ClockData start = lab.kvm().getClock();
            Lab.KvmclockReading guest = lab.kvmclock(0, Lab.ReadMode.TRUST_STABLE);
            ClockData end = lab.kvm().getClock();
            out.printf("KVM_GET_CLOCK %,d <= guest %,d <= KVM_GET_CLOCK %,d ns; master clock %s, TSC_STABLE %s%n",
                    start.clock(), guest.nanos(), end.clock(), lab.kvm().usesMasterClock() ? "on" : "off",
                    (guest.flags() & 1) != 0 ? "set" : "clear");
            failures += start.clock() <= guest.nanos() && guest.nanos() <= end.clock() ? 0 : 1;
            List<Lab.KvmclockSyncResult> sync = lab.kvmclockSync(List.of(0, 1, 2, 3), 50_000, Lab.ReadMode.TRUST_STABLE);
            long regressions = sync.stream().mapToLong(Lab.KvmclockSyncResult::regressions).sum();
            out.printf("200,000 reads across 4 vCPUs against one shared last value: %d went backwards%n", regressions);
            failures += regressions == 0 ? 0 : 1;
        }
        out.println();
        out.println("== pvclock scale: a 1.5 GHz guest on a host whose TSC truly runs at 2,999,999,500 Hz");
        long compat = drift(unicorn, PvclockMode.KVM_COMPAT, out);
        long exact = drift(unicorn, PvclockMode.EXACT, out);
        out.printf("-- KVM's kHz-based scale drifts %+d ns per second; the exact one %+d%n", compat, exact);
        failures += compat > 500 && Math.abs(exact) <= 1 ? 0 : 1;
        return failures;
    }

    /**
     * clockwatch saved after 1 s, 10 s of downtime, restored in a child JVM for 1 s more: its own
     * stats lines say whether it saw a jump. The cost model is ten times the default so that each
     * virtual second takes well under a second of wall time.
     */
    private static int saveRestore(PrintStream out) {
        out.println();
        out.println("== save and restore: clockwatch on 2 vCPUs reads its TSC and kvmclock without pause and prints"
                + " its stats every second; at 1 s the VM is saved to a file, 10 s of true time pass, and a new JVM"
                + " restores it with QEMU's procedure ('stop') and runs it 1.1 s more");
        Path dir = null;
        try {
            dir = Files.createTempDirectory("tickvm-demo-");
            Path file = dir.resolve("clockwatch.tvm");
            VirtualClock clock = new VirtualClock(new CostModel(20, 500));
            GuestRun.Result saved = new GuestRun(GuestImages.require("clockwatch")).clock(clock)
                    .run(out::write, SECOND, file);
            out.flush();
            out.printf("-- saved at %s of host time to %s (%s)%n", Durations.format(saved.hostNanos()), file,
                    Sizes.format(Files.size(file)));
            List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "restore", file.toString(), "--downtime", "10s", "--for", "1100ms");
            Path childErr = dir.resolve("restore.err");
            ProcessBuilder builder = new ProcessBuilder(command).redirectError(childErr.toFile());
            // The child's stdout is this pipe on fd 1; ./tickvm's descriptor for stdout is not passed on.
            builder.environment().remove(StdoutFd.ENV);
            Process child = builder.start();
            String restored = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            int code = child.waitFor();
            out.print(restored);
            Files.readAllLines(childErr).forEach(line -> out.println("   (child) " + line));
            long stats = restored.lines().filter(l -> l.contains("event=stats")).count();
            boolean clean = restored.lines().filter(l -> l.contains("event=stats"))
                    .allMatch(l -> l.contains(" jumps=0 ") && l.contains(" backs=0 "));
            // Each vCPU's stats after its second second of TSC time, the restore in between.
            boolean ok = code == 0 && stats >= 4 && clean;
            out.println(ok ? "-- clockwatch saw no jump and no step back on either clock across the save, the 10 s of"
                    + " downtime and the restore: 'stop' keeps the downtime out of guest time"
                    : "-- unexpected: the restored clockwatch (exit " + code + ") reported " + stats + " stats lines"
                            + (clean ? "" : " with jumps or backward steps"));
            return ok ? 0 : 1;
        } catch (IOException | SnapshotIoException e) {
            out.println("-- failed: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } finally {
            deleteQuietly(dir);
        }
    }

    /** Every restore strategy on the default migration, its table, its explanations and its plot. */
    private static int compare(PrintStream out, Unicorn unicorn) {
        out.println();
        out.println("== migration: one VM moved from a 3.0 GHz host to a 2.5 GHz one, 100 ms of downtime, the destination's"
                + " realtime 20 ms ahead, 4 vCPUs; every restore strategy, and what the guest saw");
        try {
            Comparison comparison = Comparison.run(unicorn, MigrationSetup.DEFAULT, RestoreStrategy.all(), name -> { });
            List<Path> plot = ComparisonPlot.write(comparison,
                    Path.of(System.getProperty("java.io.tmpdir"), "tickvm-demo-compare"));
            CompareCommand.print(comparison, plot, out);
            boolean ok = comparison.results().stream().allMatch(r -> r.failure() == null);
            out.println(ok ? "-- every strategy restored the VM; docs/MIGRATION.md explains the numbers"
                    : "-- a strategy could not restore the VM");
            return ok ? 0 : 1;
        } catch (IOException e) {
            out.println("-- could not write the plot: " + e.getMessage());
            return 1;
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // A temporary directory left behind is no failure of the demo.
        }
    }

    /** Guest-read kvmclock over one host second, minus that second. */
    private static long drift(Unicorn unicorn, PvclockMode mode, PrintStream out) {
        VirtualClock clock = new VirtualClock();
        SimulatedHost host = SimulatedHost.standard("host", clock).withTscHz(2_999_999_500L);
        try (Lab lab = Lab.create(unicorn, host, 1, 1_500_000)) {
            lab.kvm().setPvclockMode(mode);
            lab.enableKvmclock(0);
            long hostBefore = host.monotonicNanos();
            long before = lab.kvmclock(0, Lab.ReadMode.TRUST_STABLE).nanos();
            clock.advance(SECOND);
            long hostAfter = host.monotonicNanos();
            long after = lab.kvmclock(0, Lab.ReadMode.TRUST_STABLE).nanos();
            out.printf("%-10s pvclock from %,d Hz: kvmclock moved %,d ns while the host moved %,d ns%n",
                    mode == PvclockMode.KVM_COMPAT ? "kvm-compat" : "exact", lab.kvm().vcpu(0).pvclockTscHz(),
                    after - before, hostAfter - hostBefore);
            return (after - before) - (hostAfter - hostBefore);
        }
    }
}
