package dev.tickvm.bench;

import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
import dev.tickvm.machine.VmExit;
import dev.tickvm.snapshot.Progress;
import dev.tickvm.snapshot.SaveResult;
import dev.tickvm.snapshot.SnapshotException;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.vm.HostSpec;
import dev.tickvm.vm.StopRestore;
import dev.tickvm.vm.VirtualMachine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

/**
 * How tickvm's wall time grows with vCPUs and with guest RAM: a small harness, not JMH (the
 * operations are tens of ms to seconds, each needs a fresh VM, and one JVM for all of them keeps
 * the whole run to a couple of minutes). Every operation is timed with {@link System#nanoTime}
 * around one call of the same API the command line uses ({@link VirtualMachine}: the kvm layer on a
 * simulated host, the machine, the devices), repeated {@code --reps} times after one warmup round
 * that is thrown away; each table cell is the median and the range (fastest to slowest) of those
 * repetitions.
 *
 * <p>vCPU table (16 MiB RAM): a guest in which every vCPU counts down its share of
 * {@value #TOTAL_ITERATIONS} iterations of {@code dec rcx; jnz} (one block each) and halts, so the
 * guest work is the same for every vCPU count and only the scheduling differs. Columns: creating
 * the VM ({@link VirtualMachine#boot}: guest RAM, one Unicorn engine and kvm vCPU per vCPU, the
 * devices); running it until every vCPU has halted (default quantum, 10,000 blocks per turn),
 * as guest blocks per second and wall ns per scheduling turn; the same run with a quantum of
 * {@value #SHORT_QUANTUM} blocks, whose extra turns give the scheduler's cost per turn; saving it
 * ({@link VirtualMachine#save}, with fsync) and restoring it ({@link VirtualMachine#restore}:
 * open and check the file, create the VM, read RAM and registers, the "stop" strategy).
 *
 * <p>RAM table (1 vCPU): a guest that writes every byte of {@value #TOUCHED_MIB} MiB (from 2 MiB
 * up, with {@code rep stosq}) and halts, in VMs of 16 MiB to 1 GiB: creation, save (and the file's
 * size) and restore of the same VM state, so only the untouched RAM grows.
 *
 * <p>Snapshots go to a temporary directory that is deleted at the end. Arguments: {@code --reps N}
 * (default 5), {@code --quick} (2 repetitions: a smoke run, not for numbers), {@code vcpus} or
 * {@code ram} to run one table only.
 */
public final class Scale {
    static final int TOTAL_ITERATIONS = 1 << 24;
    static final long SHORT_QUANTUM = 100;
    static final int TOUCHED_MIB = 8;
    static final long TOUCHED_FROM = 2L << 20;
    static final long VCPU_TABLE_RAM = 16L << 20;
    static final int[] VCPUS = {1, 2, 4, 8, 16, 32, 64};
    static final int[] RAM_MIB = {16, 64, 256, 1024};

    private final Unicorn unicorn = Unicorn.get();
    private final Path dir;
    private final int reps;

    private Scale(Path dir, int reps) {
        this.dir = dir;
        this.reps = reps;
    }

    public static void main(String[] args) throws Exception {
        int reps = 5;
        boolean vcpus = true;
        boolean ram = true;
        boolean quick = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--quick" -> {
                    reps = 2;
                    quick = true;
                }
                case "vcpus" -> ram = false;
                case "ram" -> vcpus = false;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (known: --reps N, --quick, vcpus, ram)");
            }
        }
        Path dir = Files.createTempDirectory("tickvm-scale-bench");
        try {
            Scale scale = new Scale(dir, reps);
            String cpus = System.getProperty("tickvm.bench.cpus", Runtime.getRuntime().availableProcessors() + " CPUs");
            System.out.printf("tickvm scale, %s: %s, Java %s, %s, load average %s at the start; median (range) of %d"
                    + " repetitions%s%n", LocalDate.now(), scale.unicorn.describe().replaceFirst(" \\(.*", ""),
                    Runtime.version(), cpus, loadAverage(), reps, quick ? " (QUICK RUN: not for numbers)" : "");
            long start = System.nanoTime();
            if (vcpus) {
                scale.vcpuTable();
            }
            if (ram) {
                scale.ramTable();
            }
            System.out.printf("%ntook %.0f s; load average %s at the end%n", (System.nanoTime() - start) / 1e9,
                    loadAverage());
        } finally {
            deleteTree(dir);
        }
    }

    // ---- guests -------------------------------------------------------------------------------

    /**
     * Each vCPU: {@code mov eax, TOTAL; xor edx, edx; div rsi} (RSI = vCPU count, the boot
     * protocol), {@code mov rcx, rax; l: dec rcx; jnz l; h: hlt; jmp h}.
     */
    static GuestImage countdown() {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0xb8).putInt(TOTAL_ITERATIONS);                            // mov eax, imm32
        b.put(new byte[] {0x31, (byte) 0xd2});                                   // xor edx, edx
        b.put(new byte[] {0x48, (byte) 0xf7, (byte) 0xf6});                      // div rsi
        b.put(new byte[] {0x48, (byte) 0x89, (byte) 0xc1});                      // mov rcx, rax
        b.put(new byte[] {0x48, (byte) 0xff, (byte) 0xc9});                      // l: dec rcx
        b.put(new byte[] {0x75, (byte) 0xfb});                                   // jnz l
        b.put(new byte[] {(byte) 0xf4, (byte) 0xeb, (byte) 0xfd});               // h: hlt; jmp h
        return image("scale-countdown", Arrays.copyOf(b.array(), b.position()));
    }

    /** {@code mov edi, FROM; mov ecx, MiB/8; mov rax, pattern; rep stosq; h: hlt; jmp h}. */
    static GuestImage toucher() {
        ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0xbf).putInt((int) TOUCHED_FROM);                           // mov edi, imm32
        b.put((byte) 0xb9).putInt((TOUCHED_MIB << 20) / 8);                      // mov ecx, imm32
        b.put(new byte[] {0x48, (byte) 0xb8}).putLong(0x0123_4567_89ab_cdefL);   // mov rax, imm64
        b.put(new byte[] {(byte) 0xf3, 0x48, (byte) 0xab});                      // rep stosq
        b.put(new byte[] {(byte) 0xf4, (byte) 0xeb, (byte) 0xfd});               // h: hlt; jmp h
        return image("scale-toucher", Arrays.copyOf(b.array(), b.position()));
    }

    private static GuestImage image(String name, byte[] code) {
        return new GuestImage(name, "scale benchmark guest", GuestImages.DEFAULT_LOAD_ADDRESS,
                GuestImages.DEFAULT_LOAD_ADDRESS, 1, OptionalInt.empty(), code);
    }

    // ---- one VM's life ------------------------------------------------------------------------

    /** Wall times (ns) and counts of one repetition. */
    record Sample(long create, long run, long firstRound, long blocks, long turns, long shortRun, long shortTurns,
            long save, long fileSize, long restore) {
    }

    /** A run to the end: its turns, and the wall time of the first round (every vCPU's first turn). */
    private record Run(long turns, long firstRound) {
    }

    private VirtualMachine boot(GuestImage image, int vcpus, long ram, long quantum) {
        SimulatedHost host = SimulatedHost.standard("bench", new VirtualClock());
        return VirtualMachine.boot(unicorn, host, image, vcpus, ram, 0,
                VirtualMachine.Settings.DEFAULT.withQuantum(quantum), b -> { });
    }

    /** Runs to the end: every vCPU must have halted. */
    private static Run runToHalt(VirtualMachine vm) {
        int vcpus = vm.machine().vcpus().size();
        long[] turns = {0, 0};
        long start = System.nanoTime();
        vm.machine().observeTurns(() -> {
            if (++turns[0] == vcpus) {
                turns[1] = System.nanoTime() - start;
            }
        });
        VmExit exit = vm.run();
        if (!(exit instanceof VmExit.AllHalted)) {
            throw new IllegalStateException("guest did not halt: " + exit.describe());
        }
        return new Run(turns[0], turns[1]);
    }

    private Sample sample(GuestImage image, int vcpus, long ram, boolean shortQuantum) throws SnapshotException {
        Path file = dir.resolve("vm.tvm");
        long t0 = System.nanoTime();
        VirtualMachine vm = boot(image, vcpus, ram, VirtualMachine.Settings.DEFAULT.quantum());
        long created = System.nanoTime();
        long run;
        Run turns;
        long blocks;
        SaveResult saved;
        long save;
        try {
            long t1 = System.nanoTime();
            turns = runToHalt(vm);
            run = System.nanoTime() - t1;
            blocks = vm.machine().blocks();
            long t2 = System.nanoTime();
            saved = vm.save(file, new byte[0], Progress.NONE);
            save = System.nanoTime() - t2;
        } finally {
            vm.close();
        }
        long t3 = System.nanoTime();
        VirtualMachine.Restored restored = VirtualMachine.restore(unicorn, file, header -> HostSpec.build("destination",
                new VirtualClock(HostSpec.costs(HostSpec.fromParameters(header.hostParameters())),
                        header.times().trueNanos()), HostSpec.fromParameters(header.hostParameters())),
                new StopRestore(), VirtualMachine.Settings.DEFAULT, b -> { }, Progress.NONE);
        long restore = System.nanoTime() - t3;
        try (VirtualMachine back = restored.vm()) {
            if (back.machine().vcpus().size() != vcpus || back.machine().memory().size() != ram) {
                throw new IllegalStateException("restored VM differs: " + back.machine().vcpus().size() + " vCPUs, "
                        + back.machine().memory().size() + " bytes of RAM");
            }
        }
        long shortRun = 0;
        long shortTurns = 0;
        if (shortQuantum) {
            try (VirtualMachine vm2 = boot(image, vcpus, ram, SHORT_QUANTUM)) {
                long t4 = System.nanoTime();
                shortTurns = runToHalt(vm2).turns();
                shortRun = System.nanoTime() - t4;
            }
        }
        return new Sample(created - t0, run, turns.firstRound(), blocks, turns.turns(), shortRun, shortTurns, save,
                saved.fileSize(), restore);
    }

    private List<Sample> samples(GuestImage image, int vcpus, long ram, boolean shortQuantum) throws SnapshotException {
        sample(image, vcpus, ram, shortQuantum); // warmup, thrown away
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            samples.add(sample(image, vcpus, ram, shortQuantum));
        }
        return samples;
    }

    // ---- tables -------------------------------------------------------------------------------

    /** One column: its heading and what it shows of a sample. */
    private record Column(String heading, ToDoubleFunction<Sample> value) {
    }

    /**
     * Prints {@code rows} twice: the medians, then the ranges (fastest to slowest repetition). The
     * {@code derived} columns are computed from medians and have no range.
     */
    private static void print(String first, List<String> labels, List<List<Sample>> rows, List<Column> columns,
            List<ToDoubleFunction<List<Sample>>> derived, List<String> derivedHeadings) {
        int width = 13;
        StringBuilder head = new StringBuilder(String.format("%-8s", first));
        columns.forEach(c -> head.append(String.format("%" + width + "s", c.heading())));
        derivedHeadings.forEach(h -> head.append(String.format("%" + width + "s", h)));
        String line = "-".repeat(head.length());
        for (boolean medians : new boolean[] {true, false}) {
            System.out.println(line);
            System.out.println(head + (medians ? "" : "   <- range: fastest to slowest"));
            System.out.println(line);
            for (int r = 0; r < rows.size(); r++) {
                List<Sample> s = rows.get(r);
                StringBuilder row = new StringBuilder(String.format("%-8s", labels.get(r)));
                for (Column c : columns) {
                    double[] v = s.stream().mapToDouble(c.value()).sorted().toArray();
                    row.append(String.format("%" + width + "s", medians ? format(median(s, c.value()))
                            : format(v[0]) + "-" + format(v[v.length - 1])));
                }
                for (ToDoubleFunction<List<Sample>> d : derived) {
                    row.append(String.format("%" + width + "s", medians ? format(d.applyAsDouble(s)) : ""));
                }
                System.out.println(row.toString().stripTrailing());
            }
        }
        System.out.println(line);
    }

    private void vcpuTable() throws SnapshotException {
        GuestImage image = countdown();
        System.out.printf("%nvCPUs: %,d iterations of dec;jnz (one block each) shared by all vCPUs, %d MiB RAM;"
                + " times in ms%n", TOTAL_ITERATIONS, VCPU_TABLE_RAM >> 20);
        List<String> labels = new ArrayList<>();
        List<List<Sample>> rows = new ArrayList<>();
        StringBuilder turns = new StringBuilder();
        for (int n : VCPUS) {
            List<Sample> s = samples(image, n, VCPU_TABLE_RAM, true);
            labels.add(String.valueOf(n));
            rows.add(s);
            turns.append(String.format("%s%d: %,d/%,d", turns.isEmpty() ? "" : ", ", n, s.getFirst().turns,
                    s.getFirst().shortTurns));
        }
        print("vCPUs", labels, rows, List.of(
                new Column("create", x -> x.create / 1e6),
                new Column("run", x -> x.run / 1e6),
                new Column("1st round", x -> x.firstRound / 1e6),
                new Column("M blocks/s", x -> x.blocks / (x.run / 1e9) / 1e6),
                new Column("us/turn", x -> x.run / 1e3 / x.turns),
                new Column("run q=100", x -> x.shortRun / 1e6),
                new Column("save", x -> x.save / 1e6),
                new Column("restore", x -> x.restore / 1e6),
                new Column("file KiB", x -> x.fileSize / 1024.0)),
                // The extra turns of the short quantum, and what they cost beyond the same guest work.
                List.of(s -> (median(s, x -> x.shortRun) - median(s, x -> x.run))
                        / (s.getFirst().shortTurns - s.getFirst().turns)),
                List.of("ns/turn+"));
        System.out.println("turns at quantum 10,000/100 blocks, by vCPUs: " + turns);
    }

    private void ramTable() throws SnapshotException {
        GuestImage image = toucher();
        System.out.printf("%nRAM: 1 vCPU; the guest wrote %d MiB (from %d MiB up) and halted; times in ms%n",
                TOUCHED_MIB, TOUCHED_FROM >> 20);
        List<String> labels = new ArrayList<>();
        List<List<Sample>> rows = new ArrayList<>();
        for (int mib : RAM_MIB) {
            rows.add(samples(image, 1, (long) mib << 20, false));
            labels.add(mib >= 1024 ? mib / 1024 + " GiB" : mib + " MiB");
        }
        print("RAM", labels, rows, List.of(
                new Column("create", x -> x.create / 1e6),
                new Column("save", x -> x.save / 1e6),
                new Column("restore", x -> x.restore / 1e6),
                new Column("file MiB", x -> x.fileSize / 1048576.0)),
                List.of(), List.of());
    }

    // ---- statistics and formatting --------------------------------------------------------------

    private static double median(List<Sample> samples, ToDoubleFunction<Sample> f) {
        double[] v = samples.stream().mapToDouble(f).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    static String format(double v) {
        double a = Math.abs(v);
        return a >= 100 ? String.format("%.0f", v) : a >= 10 ? String.format("%.1f", v) : String.format("%.2f", v);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }
}
