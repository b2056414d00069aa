package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.cpu.NativeCpuid;
import dev.tickvm.cpu.TrapEmulator;
import dev.tickvm.devices.DebugExit;
import dev.tickvm.devices.Serial16550;
import dev.tickvm.host.CostModel;
import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.kvm.TscAttribute;
import dev.tickvm.lab.WatchFindings;
import dev.tickvm.machine.CounterTsc;
import dev.tickvm.machine.IoOutHandler;
import dev.tickvm.machine.Machine;
import dev.tickvm.machine.VmExit;
import dev.tickvm.unicorn.Unicorn;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The clockwatch image: every line it prints is one of three exact shapes (so lines from several
 * vCPUs never interleave), an undisturbed run reports no jump and no back, and a host-side
 * perturbation is reported as exactly the jump it makes: its own size plus one round of the loop,
 * on the virtual clock where every round costs the same.
 */
class ClockwatchTest {
    private static final long SECOND = 1_000_000_000L;
    private static final long PARAMS = 0xd000;
    private static final Pattern START = Pattern.compile(
            "cw vcpu=(?<vcpu>\\d+) event=start tsc_khz=(?<khz>\\d+) threshold_ns=(?<threshold>\\d+)"
                    + " period_ns=(?<period>\\d+) kvmclock=(?<kvmclock>trust|clamp|raw|off|unavailable)");
    private static final Pattern EVENT = Pattern.compile(
            "cw vcpu=(?<vcpu>\\d+) clock=(?<clock>tsc|kvmclock) event=(?<event>jump|back) ns=(?<ns>\\d+)"
                    + " from=(?<from>\\d+) to=(?<to>\\d+) at_tsc=(?<at>\\d+)");
    private static final Pattern STATS = Pattern.compile(
            "cw vcpu=(?<vcpu>\\d+) clock=(?<clock>tsc|kvmclock) event=stats reads=(?<reads>\\d+) jumps=(?<jumps>\\d+)"
                    + " backs=(?<backs>\\d+) max_step_ns=(?<maxstep>\\d+) max_back_ns=(?<maxback>\\d+) at_tsc=(?<at>\\d+)");

    /** One line of clockwatch output, its fields by name ("event" is start, jump, back or stats). */
    private record Line(Map<String, String> fields) {
        String get(String key) {
            return fields.get(key);
        }

        long num(String key) {
            return Long.parseLong(fields.get(key));
        }

        int vcpu() {
            return Integer.parseInt(fields.get("vcpu"));
        }

        boolean is(int vcpu, String clock, String event) {
            return vcpu() == vcpu && clock.equals(get("clock")) && event.equals(get("event"));
        }
    }

    /** Every line, parsed; fails on any line that is not exactly one of the three shapes. */
    private static List<Line> lines(String serial) {
        assertTrue(serial.isEmpty() || serial.endsWith("\n"), "ends with a whole line");
        return serial.lines().map(text -> {
            for (Pattern p : List.of(START, EVENT, STATS)) {
                Matcher m = p.matcher(text);
                if (m.matches()) {
                    Map<String, String> fields = new LinkedHashMap<>();
                    for (String name : m.namedGroups().keySet()) {
                        fields.put(name, m.group(name));
                    }
                    fields.putIfAbsent("event", p == START ? "start" : "stats");
                    return new Line(fields);
                }
            }
            throw new AssertionError("not a clockwatch line: '" + text + "'");
        }).toList();
    }

    private static List<Line> select(List<Line> lines, int vcpu, String clock, String event) {
        return lines.stream().filter(l -> l.is(vcpu, clock, event)).toList();
    }

    private static List<Line> events(List<Line> lines) {
        return lines.stream().filter(l -> l.get("event").equals("jump") || l.get("event").equals("back")).toList();
    }

    // ---- the path of 'tickvm run --image clockwatch' (GuestRun: a VM with the kvm layer) -----

    /** A run and the guest's serial output. */
    private record Ran(GuestRun.Result result, String serial) {
    }

    private static Ran run(GuestRun run) {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        GuestRun.Result result = run.run(serial::write);
        return new Ran(result, serial.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void runPathWatchesBothClocksAndReportsNothingUndisturbed() {
        Ran r = run(new GuestRun(GuestImages.require("clockwatch")).budget(3_000_000));
        VmExit.BudgetExhausted end = assertInstanceOf(VmExit.BudgetExhausted.class, r.result().exit());
        assertAll(r.serial(),
                () -> assertEquals(3_000_000, end.blocks()),
                () -> assertEquals(2, r.result().vcpus(), "the catalogue's default"),
                // The kvm layer's signature, so kvmclock too; the 3 GHz from CPUID 0x40000010.
                () -> assertEquals("""
                        cw vcpu=0 event=start tsc_khz=3000000 threshold_ns=1000000 period_ns=1000000000 kvmclock=trust
                        cw vcpu=1 event=start tsc_khz=3000000 threshold_ns=1000000 period_ns=1000000000 kvmclock=trust
                        """, r.serial()),
                () -> assertTrue(r.result().hostNanos() > SECOND / 1000 && r.result().hostNanos() < SECOND,
                        "over a millisecond of TSC time, under the first stats period: " + r.result().hostNanos()));
    }

    /**
     * Four vCPUs switched every 5 blocks, so each is preempted many times in the middle of its
     * start line: the spinlock still keeps every line whole, one per vCPU.
     */
    @Test
    void linesStayWholeWhenVcpusArePreemptedMidLine() {
        Ran r = run(new GuestRun(GuestImages.require("clockwatch")).vcpus(4).quantum(5).budget(200_000));
        List<Line> lines = lines(r.serial());
        assertEquals(List.of(0, 1, 2, 3), lines.stream().map(Line::vcpu).sorted().toList(), r.serial());
        assertTrue(lines.stream().allMatch(l -> l.get("event").equals("start")), r.serial());
    }

    /**
     * The default stats period is one second of TSC time; a cost model 50 times the default
     * (100 ns per block, 0.5 us per exit) gets there in a few million blocks. A quantum of 100
     * blocks keeps the other vCPU's turn, and a line printed under the lock, well under 1 ms.
     */
    @Test
    void runPathPrintsStatsOncePerSecondOfTscTimeOnEveryVcpu() {
        VirtualClock clock = new VirtualClock(new CostModel(100, 500));
        Ran r = run(new GuestRun(GuestImages.require("clockwatch")).clock(clock).quantum(100).budget(10_000_000));
        String serial = r.serial();
        List<Line> lines = lines(serial);
        long hostNanos = r.result().hostNanos();
        assertTrue(hostNanos > SECOND && hostNanos < 2 * SECOND, "between one and two seconds: " + hostNanos);
        for (int vcpu = 0; vcpu < 2; vcpu++) {
            List<Line> stats = select(lines, vcpu, "tsc", "stats");
            assertEquals(1, stats.size(), serial);
            Line s = stats.getFirst();
            int v = vcpu;
            assertAll(serial,
                    () -> assertEquals(0, s.num("jumps")),
                    () -> assertEquals(0, s.num("backs")),
                    () -> assertEquals(0, s.num("maxback")),
                    () -> assertTrue(s.num("maxstep") > 0 && s.num("maxstep") <= 1_000_000, s.fields().toString()),
                    () -> assertTrue(s.num("reads") > 10_000, s.fields().toString()),
                    () -> assertTrue(s.num("at") >= 3_000_000_000L, "after a second of 3 GHz TSC"),
                    () -> assertEquals(1, select(lines, v, "kvmclock", "stats").size()));
        }
        assertEquals(List.of(), events(lines));
    }

    /** Without a timing leaf (the emulated CPU's own CPUID) there are no ns to report in. */
    @Test
    void withoutATscFrequencyItSaysSoAndExitsWithOne() {
        Machine.Builder builder = Machine.builder().vcpus(1);
        GuestImage image = GuestImages.require("clockwatch");
        DebugExit debugExit = new DebugExit();
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        CounterTsc counter = new CounterTsc(new VirtualClock());
        builder.trapEmulators(i -> new TrapEmulator() {
            @Override
            public long readTsc() {
                return counter.readTsc();
            }

            @Override
            public long readTscAux() {
                return 0;
            }

            @Override
            public long readMsr(int index) {
                return counter.readMsr(index);
            }

            @Override
            public void writeMsr(int index, long value) {
                counter.writeMsr(index, value);
            }

            @Override
            public int[] cpuid(int leaf, int subleaf) {
                return null;
            }
        });
        builder.device(Serial16550.COM1, Serial16550.PORTS, new Serial16550(serial::write))
                .device(DebugExit.PORT, DebugExit.PORTS, debugExit)
                .onIoOut((vcpu, out) -> debugExit.exitCode().isPresent()
                        ? new IoOutHandler.IoAction.Exit(debugExit.exitCode().getAsInt())
                        : IoOutHandler.IoAction.CONTINUE)
                .image(image.loadAddress(), image.entry(), image.code());
        try (Machine m = builder.build()) {
            assertEquals(new VmExit.Exited(1), m.run());
        }
        assertEquals("cw vcpu=0 event=error reason=no-tsc-khz\n", serial.toString(StandardCharsets.US_ASCII));
    }

    // ---- under the kvm layer ----------------------------------------------------------------

    /** clockwatch on a KVM VM on a standard 3 GHz host, as Lab builds the probe's VM. */
    private static final class KvmRun implements AutoCloseable {
        final VirtualClock clock = new VirtualClock();
        final KvmVm kvm;
        final Machine machine;
        final ByteArrayOutputStream serial = new ByteArrayOutputStream();
        private int consumed;

        KvmRun(int vcpus, long... params) {
            Unicorn unicorn = Unicorn.get();
            kvm = new KvmVm(SimulatedHost.standard("host", clock), (leaf, sub) -> NativeCpuid.query(unicorn, leaf, sub));
            GuestImage image = GuestImages.require("clockwatch");
            machine = Machine.builder().unicorn(unicorn).clock(clock).vcpus(vcpus)
                    .device(Serial16550.COM1, Serial16550.PORTS, new Serial16550(serial::write))
                    .trapEmulators(i -> kvm.createVcpu())
                    .image(image.loadAddress(), image.entry(), image.code())
                    .build();
            kvm.attachMemory(machine.memory());
            for (int i = 0; i < params.length; i++) {
                machine.memory().writeLong(PARAMS + 8L * i, params[i]);
            }
        }

        /** Runs {@code blocks} more blocks; returns the lines printed meanwhile. */
        List<Line> run(long blocks) {
            machine.budgetFromNow(blocks);
            assertInstanceOf(VmExit.BudgetExhausted.class, machine.run());
            byte[] all = serial.toByteArray();
            String text = new String(all, consumed, all.length - consumed, StandardCharsets.US_ASCII);
            consumed = all.length;
            return lines(text);
        }

        WatchFindings findings(int vcpu) {
            return WatchFindings.read(machine.memory(), vcpu);
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    /**
     * Two vCPUs, kvmclock enabled by the guest and read as Linux reads it, stats every
     * millisecond: nothing to report while undisturbed; then one host second passes between two
     * runs and every clock of every vCPU jumps once, by that second and less than a threshold
     * more (the rest of one step: a round, the other vCPU's turn, the lines printed); the serial
     * line and the findings in guest RAM say the same.
     */
    @Test
    void hostSecondBetweenRunsIsOneJumpPerClockPerVcpu() {
        try (KvmRun vm = new KvmRun(2, 0, 1_000_000)) {
            List<Line> first = vm.run(1_000_000);
            assertEquals("cw vcpu=0 event=start tsc_khz=3000000 threshold_ns=1000000 period_ns=1000000 kvmclock=trust",
                    serialLine(vm, 0));
            assertEquals(List.of(), events(first));
            for (int vcpu = 0; vcpu < 2; vcpu++) {
                for (String clock : List.of("tsc", "kvmclock")) {
                    List<Line> stats = select(first, vcpu, clock, "stats");
                    assertTrue(stats.size() >= 2, "stats every ms of a few ms: " + stats.size());
                    stats.forEach(s -> assertEquals(0, s.num("jumps") + s.num("backs")));
                }
                WatchFindings f = vm.findings(vcpu);
                assertEquals(WatchFindings.State.RUNNING, f.state());
                assertEquals(0, f.jumps() + f.backs());
            }

            vm.clock.advance(SECOND);
            List<Line> second = vm.run(200_000);
            List<Line> jumps = events(second);
            assertEquals(4, jumps.size(), second::toString);
            for (int vcpu = 0; vcpu < 2; vcpu++) {
                WatchFindings after = vm.findings(vcpu);
                for (String clock : List.of("tsc", "kvmclock")) {
                    Line jump = select(jumps, vcpu, clock, "jump").getFirst();
                    WatchFindings.Clock now = clock.equals("tsc") ? after.tsc() : after.kvmclock();
                    long ns = jump.num("ns");
                    assertAll(jump.fields().toString(),
                            () -> assertTrue(ns > SECOND && ns <= SECOND + after.thresholdNs()),
                            () -> assertEquals(1, now.jumps()),
                            () -> assertEquals(ns, now.lastJumpNs()),
                            () -> assertEquals(jump.num("at"), now.lastJumpTsc()),
                            () -> assertEquals(0, now.backs()));
                    if (clock.equals("tsc")) {
                        assertEquals(jump.num("to"), jump.num("at"));
                        assertEquals((jump.num("to") - jump.num("from")) / 3, ns, "cycles * 1e6 / 3,000,000 kHz");
                    } else {
                        assertEquals(jump.num("to") - jump.num("from"), ns);
                    }
                }
            }
        }
    }

    /**
     * On one vCPU with the defaults (no stats line for a second), every round of the loop costs
     * the same, so the TSC's jump across a host second is exactly 3,000,000,000 cycles plus one
     * round, in ns. kvmclock's step also holds the jump line the guest printed in between.
     */
    @Test
    void hostSecondOnOneVcpuIsExactlyASecondPlusOneRound() {
        try (KvmRun vm = new KvmRun(1)) {
            vm.run(2_000);
            WatchFindings a = vm.findings(0);
            vm.run(20_000);
            WatchFindings b = vm.findings(0);
            long rounds = b.tsc().reads() - a.tsc().reads();
            long cycles = b.tsc().last() - a.tsc().last();
            assertEquals(0, cycles % rounds, "every round costs the same: " + cycles + " cycles in " + rounds);
            long round = cycles / rounds;

            vm.clock.advance(SECOND);
            List<Line> lines = vm.run(2_000);
            List<Line> jumps = events(lines);
            assertEquals(2, jumps.size(), lines::toString);
            Line tsc = select(jumps, 0, "tsc", "jump").getFirst();
            Line kvmclock = select(jumps, 0, "kvmclock", "jump").getFirst();
            assertAll(lines.toString(),
                    () -> assertEquals(3_000_000_000L + round, tsc.num("to") - tsc.num("from")),
                    () -> assertEquals(SECOND + round / 3, tsc.num("ns")),
                    () -> assertTrue(kvmclock.num("ns") > tsc.num("ns") && kvmclock.num("ns") < SECOND + 100_000,
                            "a second, a round and one printed line: " + kvmclock.num("ns")));
        }
    }

    /**
     * KVM_SET_DEVICE_ATTR moves vCPU 1's TSC offset by +3,000,000,000 cycles at 3 GHz: vCPU 1's
     * TSC jumps by one second plus at most one of its steps, vCPU 0 sees nothing, and kvmclock,
     * which is host time, stays smooth on both (KVM republishes the pvclock pages). LabWatchTest
     * pins the size exactly, on one vCPU.
     */
    @Test
    void tscOffsetMovedOnOneVcpuIsOneJumpOfASecondThereOnly() {
        try (KvmRun vm = new KvmRun(2)) {
            vm.run(1_000_000);
            WatchFindings before = vm.findings(1);
            KvmVcpu v1 = vm.kvm.vcpu(1);
            v1.setAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET, v1.tscOffset() + 3_000_000_000L);
            List<Line> lines = vm.run(200_000);
            List<Line> jumps = events(lines);
            assertEquals(1, jumps.size(), lines::toString);
            Line jump = jumps.getFirst();
            WatchFindings after = vm.findings(1);
            assertAll(jump.fields().toString(),
                    () -> assertTrue(jump.is(1, "tsc", "jump")),
                    () -> assertTrue(jump.num("ns") > SECOND && jump.num("ns") <= SECOND + before.tsc().maxStepNs()),
                    () -> assertEquals((jump.num("to") - jump.num("from")) / 3, jump.num("ns")),
                    () -> assertEquals(jump.num("ns"), after.tsc().lastJumpNs()),
                    () -> assertEquals(0, vm.findings(0).jumps() + vm.findings(0).backs()),
                    () -> assertEquals(0, after.kvmclock().jumps() + after.kvmclock().backs()));
        }
    }

    /** The parameter block: kvmclock off, a TSC frequency given (and here wrong by half), a 2 s threshold. */
    @Test
    void parameterBlockOverridesTheDefaults() {
        try (KvmRun vm = new KvmRun(1, 2 * SECOND, 0, 1, 1_500_000)) {
            List<Line> first = vm.run(100_000);
            assertEquals(1, first.size(), first::toString);
            assertEquals("cw vcpu=0 event=start tsc_khz=1500000 threshold_ns=2000000000 period_ns=1000000000 kvmclock=off",
                    serialLine(vm, 0));
            vm.clock.advance(SECOND);
            List<Line> second = vm.run(100_000);
            // The guest believes its 3 GHz TSC runs at 1.5 GHz: one host second is two of its own,
            // plus one round, which is above the threshold; the period of 1 s has passed too.
            Line jump = select(second, 0, "tsc", "jump").getFirst();
            assertTrue(jump.num("ns") > 2 * SECOND && jump.num("ns") < 2 * SECOND + 2_000, jump.fields().toString());
            assertEquals(1, select(second, 0, "tsc", "stats").size());
            assertEquals(List.of(), select(second, 0, "kvmclock", "stats"));
            assertEquals(0, vm.findings(0).kvmclock().reads());
        }
    }

    @Test
    void kvmclockModesAreNamedInTheStartLine() {
        for (int mode = 0; mode <= 4; mode++) {
            try (KvmRun vm = new KvmRun(1, 0, 0, mode)) {
                vm.run(20_000);
                String name = List.of("trust", "off", "clamp", "raw", "off").get(mode);
                assertTrue(serialLine(vm, 0).endsWith(" kvmclock=" + name), serialLine(vm, 0));
                assertEquals(mode != 1 && mode != 4, vm.findings(0).kvmclockWatched(), "mode " + mode);
            }
        }
    }

    private static String serialLine(KvmRun vm, int index) {
        return vm.serial.toString(StandardCharsets.US_ASCII).lines().toList().get(index);
    }
}
