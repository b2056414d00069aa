package dev.tickvm.tools;

import dev.tickvm.images.GuestImage;
import dev.tickvm.machine.Machine;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import dev.tickvm.snapshot.SnapshotIoException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run",
        mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Boots a guest image and runs it until it exits, faults, halts or runs out of budget.",
            "The guest's serial output goes to stdout (or --serial FILE); a one-line summary goes to stderr.",
            "The exit code is the guest's debug-exit code (255 for a code outside 0..255),",
            "or 3 (all halted), 4 (fault), 5 (budget).",
            "With --json, stdout has one JSON object instead: the summary and the serial output (docs/JSON.md).",
            "A run that takes over a second shows its progress on stderr (blocks run of the --budget, host time):",
            "a bar on a terminal, else a line a second; --no-progress turns it off."},
        footer = {"", "Examples:",
            "  ./tickvm run --image hello",
            "  ./tickvm run --image rdtsc-loop --clock real",
            "  ./tickvm run --image hello --json              exit, counts, times and serial output as JSON",
            "  ./tickvm run --image smp-hello --vcpus 8 --memory 32M",
            "  ./tickvm run --image ./my-guest.bin --budget 1000000",
            "  ./tickvm run --image rdtsc-loop --trace=kvm_*,tickvm_exit   (the time trace, docs/TRACE.md)",
            "  ./tickvm run --image clockwatch --save-at 2s --snapshot cw.tvm   then: ./tickvm restore cw.tvm",
            "",
            "A raw image file is loaded and entered at 0x100000 with the boot protocol of",
            "guest-images/README.md (RDI = vCPU id, RSI = vCPU count, RDX = RAM size)."})
final class RunCommand implements Callable<Integer> {

    @Option(names = "--image", required = true, paramLabel = "NAME|PATH",
            description = "A catalogue name (see 'tickvm images') or a flat binary file.")
    String image;

    @Option(names = "--vcpus", paramLabel = "N", description = "Number of vCPUs, 1 to 64 (default: the image's own).")
    Integer vcpus;

    @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "16M", converter = SizeConverter.class,
            description = "Guest RAM, 2M to 4G, in 4 KiB pages (default: ${DEFAULT-VALUE}).")
    long memory;

    @Option(names = "--clock", paramLabel = "KIND", defaultValue = "virtual",
            description = "Host clock: virtual (deterministic, default) or real (System.nanoTime).")
    ClockKind clock;

    @Mixin
    VmOptions vm;

    @Mixin
    TraceOptions trace;

    @Mixin
    ProgressOptions progress;

    @Option(names = "--save-at", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Stop once this much host time has passed (10s, 500ms, ...), save the VM to --snapshot, exit.")
    Long saveAt;

    @Option(names = "--snapshot", paramLabel = "FILE",
            description = "Where --save-at saves the VM (replaced atomically; 'tickvm restore FILE' continues it).")
    Path snapshot;

    @Option(names = "--json", description = "One JSON object on stdout instead of the serial output and the summary:"
            + " the summary's numbers and the serial output as a string (unless --serial) (docs/JSON.md).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if ((saveAt == null) != (snapshot == null)) {
            throw new IllegalArgumentException("--save-at and --snapshot go together: when to save, and where");
        }
        if (saveAt != null && clock == ClockKind.real) {
            throw new IllegalArgumentException("--save-at needs the virtual clock: a real clock's VM cannot be"
                    + " restored at the time it was saved");
        }
        Main.unicorn();
        GuestImage guest = ImageArgument.resolve(image);
        GuestRun run = new GuestRun(guest).memorySize(memory).clock(clock.create()).budget(vm.budget).quantum(vm.quantum)
                .progress(progress.snapshot("saving")).runProgress(progress.work());
        if (vcpus != null) {
            run.vcpus(vcpus);
        }
        GuestRun.Result result;
        java.io.ByteArrayOutputStream serial = new java.io.ByteArrayOutputStream();
        try (VmOptions.SerialFile out = vm.openSerial(Path.of(image), snapshot)) {
            PrintStream stdout = System.out;
            result = trace.call(new PrintWriter(System.err, true),
                    () -> run.run(json && out == null ? serial::write : VmOptions.sink(out),
                            saveAt == null ? -1 : saveAt, snapshot));
            stdout.flush();
            if (out != null) {
                out.finish();
            }
        }
        if (json) {
            java.util.Map<String, Object> report = Json.envelope("run");
            report.put("image", guest.name());
            report.put("memory", memory);
            report.put("clock", clock.name());
            report.putAll(json(result, vm.serial == null ? serial : null));
            report.put("snapshot", snapshot != null && result.exit() instanceof dev.tickvm.machine.VmExit.TimeReached
                    ? snapshot.toString() : null);
            Json.print(report, System.out);
            return result.exit().exitCode();
        }
        System.err.println("tickvm: " + guest.name() + ": " + result.summary(clock.name()));
        if (snapshot != null && result.exit() instanceof dev.tickvm.machine.VmExit.TimeReached) {
            System.err.println("tickvm: saved to " + snapshot + "; continue it with: ./tickvm restore " + snapshot);
        }
        return result.exit().exitCode();
    }

    /**
     * The JSON fields of a run (also restore's): how it ended, the counts and times of the
     * summary line, and the serial output captured in {@code serial} (null: it went to a file).
     */
    static java.util.Map<String, Object> json(GuestRun.Result result, java.io.ByteArrayOutputStream serial) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        java.util.Map<String, Object> exit = new java.util.LinkedHashMap<>();
        dev.tickvm.machine.VmExit e = result.exit();
        exit.put("kind", switch (e) {
            case dev.tickvm.machine.VmExit.Exited x -> "exited";
            case dev.tickvm.machine.VmExit.AllHalted x -> "all-halted";
            case dev.tickvm.machine.VmExit.Faulted x -> "faulted";
            case dev.tickvm.machine.VmExit.BudgetExhausted x -> "budget-exhausted";
            case dev.tickvm.machine.VmExit.Paused x -> "paused";
            case dev.tickvm.machine.VmExit.TimeReached x -> "time-reached";
        });
        exit.put("code", e.exitCode());
        exit.put("message", e.describe());
        switch (e) {
            case dev.tickvm.machine.VmExit.Faulted f -> exit.put("vcpu", f.vcpu());
            case dev.tickvm.machine.VmExit.BudgetExhausted b -> {
                exit.put("vcpu", b.vcpu());
                exit.put("rip", Json.unsigned(b.rip()));
            }
            case dev.tickvm.machine.VmExit.TimeReached t -> exit.put("hostNanos", t.nanos());
            default -> {
            }
        }
        m.put("exit", exit);
        m.put("vcpus", result.vcpus());
        m.put("blocks", result.blocks());
        m.put("trappedInstructions", result.traps());
        m.put("hostNanos", result.hostNanos());
        m.put("wallNanos", result.wallNanos());
        m.put("serial", serial == null ? null : serial.toString(java.nio.charset.StandardCharsets.ISO_8859_1));
        return m;
    }
}
