package dev.tickvm.tools;

import dev.tickvm.images.GuestImage;
import dev.tickvm.machine.Machine;
import java.io.IOException;
import java.io.OutputStream;
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
            "The exit code is the guest's debug-exit code, or 3 (all halted), 4 (fault), 5 (budget).",
            "A run that takes over a second shows its progress on stderr (blocks run of the --budget, host time):",
            "a bar on a terminal, else a line a second; --no-progress turns it off."},
        footer = {"", "Examples:",
            "  ./tickvm run --image hello",
            "  ./tickvm run --image rdtsc-loop --clock real",
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
        try (OutputStream out = vm.openSerial()) {
            PrintStream stdout = System.out;
            result = trace.call(new PrintWriter(System.err, true),
                    () -> run.run(VmOptions.sink(out), saveAt == null ? -1 : saveAt, snapshot));
            stdout.flush();
        }
        System.err.println("tickvm: " + guest.name() + ": " + result.summary(clock.name()));
        if (snapshot != null && result.exit() instanceof dev.tickvm.machine.VmExit.TimeReached) {
            System.err.println("tickvm: saved to " + snapshot + "; continue it with: ./tickvm restore " + snapshot);
        }
        return result.exit().exitCode();
    }

}
