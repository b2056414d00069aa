package dev.tickvm.scenario;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.kvm.Errno;
import dev.tickvm.kvm.Msr;
import dev.tickvm.kvm.PvclockMode;
import dev.tickvm.kvm.TscAttribute;
import dev.tickvm.lab.Lab;
import dev.tickvm.scenario.ScenarioSyntaxException.SyntaxError;
import dev.tickvm.scenario.Statement.Cpu;
import dev.tickvm.scenario.Statement.GuestOp;
import dev.tickvm.scenario.Statement.Step;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The scenario language's grammar: every statement, and the exact syntax errors. */
class ScenarioParserTest {
    private static final String PRELUDE = "host h\nvm host=h vcpus=2\nlet x = 5\n";

    private static List<Step> parse(String text) {
        try {
            return Scenario.parse("x.tvs", text).steps();
        } catch (ScenarioSyntaxException e) {
            throw new AssertionError("unexpected syntax error: " + e.getMessage(), e);
        }
    }

    /** The statement on the one line after the prelude (host, vm, let x = 5). */
    private static Statement statement(String line) {
        List<Step> steps = parse(PRELUDE + line + "\n");
        assertEquals(4, steps.size(), () -> "steps of " + line);
        Step step = steps.getLast();
        assertEquals(4, step.line());
        assertEquals(line.contains("#") ? line.substring(0, line.indexOf('#')).strip() : line.strip(), step.text());
        return step.statement();
    }

    private static List<SyntaxError> errors(String text) {
        return assertThrows(ScenarioSyntaxException.class, () -> Scenario.parse("x.tvs", text)).errors();
    }

    /** The single error of a file: "file:line:column: message". */
    private static String error(String text) {
        List<SyntaxError> errors = errors(text);
        assertEquals(1, errors.size(), () -> "errors: " + errors);
        return errors.getFirst().toString();
    }

    private static long eval(String expression) {
        Statement.Let let = (Statement.Let) statement("let y = " + expression);
        return let.value().eval(new HashMap<>(Map.of("x", 5L)));
    }

    // ---- statements -------------------------------------------------------------------------------

    @Test
    void hostTakesNamedSettings() {
        Step step = parse("host src tsc-khz=2_000_000 frac-bits=32 stable=no tsc-at-boot=0x10 realtime-error=50ms"
                + " boot-epoch=0 ns-per-block=3 ns-per-exit=100  # a comment\n").getFirst();
        Statement.DefineHost host = assertInstanceOf(Statement.DefineHost.class, step.statement());
        assertEquals("src", host.name());
        Map<String, Long> values = new HashMap<>();
        host.settings().forEach((k, v) -> values.put(k, v.eval(Map.of())));
        assertEquals(Map.of("tsc-khz", 2_000_000L, "frac-bits", 32L, "stable", 0L, "tsc-at-boot", 16L,
                "realtime-error", 50_000_000L, "boot-epoch", 0L, "ns-per-block", 3L, "ns-per-exit", 100L), values);
        assertEquals("host", step.kind());
        assertEquals("host src tsc-khz=2_000_000 frac-bits=32 stable=no tsc-at-boot=0x10 realtime-error=50ms"
                + " boot-epoch=0 ns-per-block=3 ns-per-exit=100", step.text());
    }

    @Test
    void aHostsFrequencyMayBeGivenInHz() {
        Statement.DefineHost host = (Statement.DefineHost) parse("host b tsc-hz=2_999_999_999\n").getFirst().statement();
        assertEquals(2_999_999_999L, host.settings().get("tsc-hz").eval(Map.of()));
    }

    @Test
    void vmNamesItsHostCountAndFrequency() {
        Statement.CreateVm vm = assertInstanceOf(Statement.CreateVm.class,
                parse("host a\nvm host=a vcpus=20 tsc-khz=2345678 quantum=500\n").get(1).statement());
        assertEquals("a", vm.host());
        assertEquals(500, vm.quantum().eval(Map.of()));
        assertEquals(20, vm.vcpus().eval(Map.of()));
        assertEquals(2_345_678, vm.tscKhz().eval(Map.of()));
        Statement.CreateVm defaults = assertInstanceOf(Statement.CreateVm.class, parse("vm\n").getFirst().statement());
        assertNull(defaults.host());
        assertEquals(1, defaults.vcpus().eval(Map.of()));
        assertNull(defaults.tscKhz());
        assertNull(defaults.quantum());
        // The only host defined is the VM's without host=.
        assertEquals("a", ((Statement.CreateVm) parse("host a\nvm\n").get(1).statement()).host());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"advance 1s | 1000000000", "advance 500ms | 500000000", "advance 10us | 10000",
        "advance 7ns | 7", "advance 42 | 42", "advance (1s - x) | 999999995"})
    void advanceTakesADuration(String line, long nanos) {
        Statement.Advance advance = assertInstanceOf(Statement.Advance.class, statement(line));
        assertEquals(nanos, advance.nanos().eval(Map.of("x", 5L)));
    }

    @Test
    void hostReads() {
        assertEquals(new Statement.HostRead("tsc", List.of("h")), statement("host-tsc -> h"));
        assertEquals(new Statement.HostRead("ns", List.of("n")), statement("host-ns -> n"));
        assertEquals(new Statement.HostRead("realtime", List.of("r")), statement("host-realtime -> r"));
    }

    @Test
    void vmWideCalls() {
        Statement.SetVm set = assertInstanceOf(Statement.SetVm.class, statement("set-vm tsc-khz 2000000"));
        assertEquals("tsc-khz", set.key());
        assertNull(set.mode());
        for (String key : List.of("tsc-khz", "tsc-generation", "vcpus-matched", "master-clock", "use-master-clock",
                "kvmclock-offset")) {
            assertEquals(new Statement.GetVm(key, List.of("v")), statement("get-vm " + key + " -> v"));
        }
        assertEquals(new Statement.SetVm("pvclock-mode", null, PvclockMode.EXACT),
                statement("set-vm pvclock-mode exact"));
        assertEquals(new Statement.SetVm("pvclock-mode", null, PvclockMode.KVM_COMPAT),
                statement("set-vm pvclock-mode kvm-compat   # KVM's kHz-based scale"));
    }

    @Test
    void vcpuSetters() {
        Statement.SetVcpu khz = assertInstanceOf(Statement.SetVcpu.class, statement("set-tsc-khz 1 2_000_000"));
        assertEquals(Statement.Setter.TSC_KHZ, khz.what());
        assertEquals(new Cpu(1), khz.cpu());
        assertEquals(2_000_000, khz.value().eval(Map.of()));
        Statement.SetVcpu msr = assertInstanceOf(Statement.SetVcpu.class, statement("set-msr all IA32_TSC_ADJUST -x"));
        assertEquals(Statement.Setter.MSR, msr.what());
        assertTrue(msr.cpu().all());
        assertEquals(Msr.IA32_TSC_ADJUST, msr.selector());
        assertEquals(-5, msr.value().eval(Map.of("x", 5L)));
        Statement.SetVcpu byNumber = assertInstanceOf(Statement.SetVcpu.class, statement("set-msr 0 0xc0000103 7"));
        assertEquals(Msr.TSC_AUX, byNumber.selector());
        Statement.SetVcpu attr = assertInstanceOf(Statement.SetVcpu.class,
                statement("set-attr 0 tsc-offset -180_000_000_000"));
        assertEquals(Statement.Setter.ATTR, attr.what());
        assertEquals(TscAttribute.TSC_OFFSET, attr.selector());
        assertEquals(-180_000_000_000L, attr.value().eval(Map.of()));
    }

    @Test
    void vcpuGetters() {
        assertEquals(new Statement.GetVcpu(Statement.Getter.TSC_KHZ, new Cpu(0), 0, null, List.of("k")),
                statement("get-tsc-khz 0 -> k"));
        assertEquals(new Statement.GetVcpu(Statement.Getter.MSR, new Cpu(1), Msr.IA32_TSC, null, List.of("t")),
                statement("get-msr 1 MSR_IA32_TSC -> t"));
        assertEquals(new Statement.GetVcpu(Statement.Getter.ATTR, Cpu.ALL, TscAttribute.TSC_OFFSET, null,
                List.of("lo", "hi")), statement("get-attr all tsc-offset -> lo hi"));
        assertEquals(new Statement.GetVcpu(Statement.Getter.VCPU_STATE, new Cpu(0), 0, "tsc-ratio", List.of("r")),
                statement("get-vcpu 0 tsc-ratio -> r"));
        assertEquals(new Statement.GetVcpu(Statement.Getter.VCPU_STATE, Cpu.ALL, 0, "pvclock-hz", List.of("lo", "hi")),
                statement("get-vcpu all pvclock-hz -> lo hi"));
    }

    @Test
    void clockCalls() {
        assertEquals(new Statement.GetClock(List.of("c", "f", "r", "t")), statement("get-clock -> c f r t"));
        assertEquals(new Statement.GetClock(List.of("c")), statement("get-clock -> c"));
        Statement.SetClock plain = assertInstanceOf(Statement.SetClock.class, statement("set-clock 180s"));
        assertEquals(180_000_000_000L, plain.clock().eval(Map.of()));
        assertNull(plain.realtime());
        assertNull(plain.flags());
        Statement.SetClock realtime = (Statement.SetClock) statement("set-clock 0 realtime=(x - 180s)");
        assertEquals(0, realtime.clock().eval(Map.of()));
        assertEquals(5 - 180_000_000_000L, realtime.realtime().eval(Map.of("x", 5L)));
        assertNull(realtime.flags());
        Statement.SetClock flags = (Statement.SetClock) statement("set-clock x flags=(REALTIME | HOST_TSC) realtime=x");
        assertEquals(12, flags.flags().eval(Map.of()));
        assertEquals(5, flags.realtime().eval(Map.of("x", 5L)));
    }

    @Test
    void kvmclockSteps() {
        assertEquals(new Statement.EnableKvmclock(Cpu.ALL), statement("enable-kvmclock all"));
        assertEquals(new Statement.EnableKvmclock(new Cpu(1)), statement("enable-kvmclock 1"));
        assertEquals(new Statement.KvmclockCtrl(new Cpu(0)), statement("kvmclock-ctrl 0"));
        assertEquals(new Statement.GetPvclock(new Cpu(1), List.of("v", "_", "t", "m", "s", "f")),
                statement("get-pvclock 1 -> v _ t m s f"));
        List<Step> steps = parse(PRELUDE + "pause\nadvance 30s\nget-clock -> c\nresume\nguest 0 rdtsc -> t\n");
        assertEquals(new Statement.RunState(true), steps.get(3).statement());
        assertEquals("pause", steps.get(3).kind());
        assertEquals(new Statement.RunState(false), steps.get(6).statement());
        assertEquals("resume", steps.get(6).kind());
        // Paused again, and resumed again.
        parse(PRELUDE + "pause\nresume\npause\nresume\nenable-kvmclock 0\n");
    }

    @Test
    void kvmclockGuestCommands() {
        Statement.Guest read = assertInstanceOf(Statement.Guest.class, statement("guest 0 kvmclock -> ns r f c t"));
        assertEquals(GuestOp.KVMCLOCK, read.op());
        assertEquals(Lab.ReadMode.TRUST_STABLE, read.mode());
        assertEquals(List.of("ns", "r", "f", "c", "t"), read.targets());
        assertEquals(Lab.ReadMode.ALWAYS_CLAMP, ((Statement.Guest) statement("guest 1 kvmclock clamp -> ns")).mode());
        assertEquals(Lab.ReadMode.RAW, ((Statement.Guest) statement("guest 1 kvmclock raw -> ns")).mode());
        assertEquals(Lab.ReadMode.TRUST_STABLE, ((Statement.Guest) statement("guest 1 kvmclock trust -> ns")).mode());
        Statement.Guest wall = (Statement.Guest) statement("guest 0 wallclock -> sec nsec version retries");
        assertEquals(GuestOp.WALLCLOCK, wall.op());
        assertEquals(List.of(), wall.args());
        assertNull(wall.mode());
        Statement.Guest sync = (Statement.Guest) statement("guest all kvmclock-sync (x * 1000) raw -> r c l t");
        assertEquals(GuestOp.KVMCLOCK_SYNC, sync.op());
        assertTrue(sync.cpu().all());
        assertEquals(Lab.ReadMode.RAW, sync.mode());
        assertEquals(5000, sync.args().getFirst().eval(Map.of("x", 5L)));
        Statement.Guest syncDefault = (Statement.Guest) statement("guest 1 kvmclock-sync x -> r");
        assertEquals(Lab.ReadMode.TRUST_STABLE, syncDefault.mode());
        assertEquals(new Cpu(1), syncDefault.cpu());
        Statement.Guest torn = (Statement.Guest) statement("guest 0 torn-kvmclock 1 100_000 -> ns retries");
        assertEquals(GuestOp.TORN_KVMCLOCK, torn.op());
        assertEquals(new Cpu(0), torn.cpu());
        assertEquals(new Cpu(1), torn.writer());
        assertEquals(100_000, torn.args().getFirst().eval(Map.of()));
        assertNull(((Statement.Guest) statement("guest 0 rdtsc -> t")).writer());
    }

    @Test
    void watchStartAndStop() {
        List<Step> steps = parse(PRELUDE + """
                guest 0 watch-start
                guest 1 watch-start trust (x * 1ms)
                guest 1 watch-stop -> j
                guest 1 watch-start raw
                guest 0 watch-stop -> j b s m kj kb ks km r
                guest 0 watch-start tsc x
                """);
        List<Statement.Guest> g = steps.subList(3, steps.size()).stream().map(s -> (Statement.Guest) s.statement())
                .toList();
        assertAll(
                () -> assertEquals(GuestOp.WATCH_START, g.get(0).op()),
                () -> assertNull(g.get(0).mode(), "the TSC only"),
                () -> assertEquals(List.of(), g.get(0).args()),
                () -> assertEquals(Lab.ReadMode.TRUST_STABLE, g.get(1).mode()),
                () -> assertEquals(5_000_000, g.get(1).args().getFirst().eval(Map.of("x", 5L))),
                () -> assertEquals(GuestOp.WATCH_STOP, g.get(2).op()),
                () -> assertEquals(List.of("j"), g.get(2).targets()),
                () -> assertEquals(Lab.ReadMode.RAW, g.get(3).mode()),
                () -> assertEquals(List.of("j", "b", "s", "m", "kj", "kb", "ks", "km", "r"), g.get(4).targets()),
                () -> assertNull(g.get(5).mode()),
                () -> assertEquals(1, g.get(5).args().size()));
    }

    @Test
    void aWatchingVcpuRunsNothingElseUntilItsWatchStops() {
        assertEquals("x.tvs:5:7: vCPU 0 is watching its clocks (since line 4): 'guest 0 rdtsc' needs it; put"
                + " 'guest 0 watch-stop' before it", error(PRELUDE + "guest 0 watch-start\nguest 0 rdtsc -> t\n"));
        assertEquals("x.tvs:5:7: vCPU 1 is watching its clocks (since line 4): 'guest all sync' needs it; put"
                + " 'guest 1 watch-stop' before it", error(PRELUDE + "guest 1 watch-start\nguest all sync 100 -> r\n"));
        assertEquals("x.tvs:5:17: vCPU 1 is watching its clocks (since line 4): 'enable-kvmclock' needs it; put"
                + " 'guest 1 watch-stop' before it", error(PRELUDE + "guest 1 watch-start\nenable-kvmclock all\n"));
        assertEquals("x.tvs:5:23: vCPU 1 is watching its clocks (since line 4): 'guest 0 torn-kvmclock' needs it;"
                + " put 'guest 1 watch-stop' before it",
                error(PRELUDE + "guest 1 watch-start\nguest 0 torn-kvmclock 1 100 -> ns\n"));
        assertEquals("x.tvs:5:9: vCPU 0 is already watching its clocks (since line 4): 'guest 0 watch-stop' first",
                error(PRELUDE + "guest 0 watch-start\nguest 0 watch-start\n"));
        assertEquals("x.tvs:4:9: no watch runs on vCPU 0: 'guest 0 watch-start' first",
                error(PRELUDE + "guest 0 watch-stop -> j\n"));
        assertEquals("x.tvs:4:11: only 'sync' and 'kvmclock-sync' run on all vCPUs at once; give 'watch-start' one"
                + " vCPU index", error(PRELUDE + "guest all watch-start\n"));
        assertEquals("x.tvs:4:29: expect-error needs a step that can fail the KVM way or fault, not 'watch-start'",
                error(PRELUDE + "expect-error EINVAL guest 0 watch-start\n"));
        assertEquals("x.tvs:5:19: missing '->' target: guest watch-stop gives 9 values (tsc_jumps tsc_backs"
                + " tsc_max_step tsc_max_back kvmclock_jumps kvmclock_backs kvmclock_max_step kvmclock_max_back"
                + " rounds); bind it with '-> NAME'", error(PRELUDE + "guest 0 watch-start\nguest 0 watch-stop\n"));
        assertEquals("x.tvs:4:26: unexpected 'trust'", error(PRELUDE + "guest 0 watch-start 1000 trust\n"));
        // Host-side steps, other vCPUs, and pause/resume are fine while a vCPU watches; a bad line
        // still counts as the watch it meant, so later lines are not blamed for it.
        parse(PRELUDE + "guest 0 watch-start\nadvance 1s\nset-attr 0 tsc-offset 5\nguest 1 rdtsc -> t\npause\n"
                + "resume\nguest 0 watch-stop -> j\nguest 0 rdtsc -> t\n");
        assertEquals("x.tvs:4:26: unexpected 'junk'",
                error(PRELUDE + "guest 0 watch-start 1000 junk\nguest 0 watch-stop -> j\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {"TSC_STABLE; 2", "REALTIME; 4", "HOST_TSC; 8", "KVM_CLOCK_TSC_STABLE; 2",
        "KVM_CLOCK_REALTIME; 4", "KVM_CLOCK_HOST_TSC; 8", "PVCLOCK_TSC_STABLE_BIT; 1", "PVCLOCK_GUEST_STOPPED; 2",
        "REALTIME | HOST_TSC; 12", "14 & REALTIME; 4", "-REALTIME; -4", "x & ~TSC_STABLE; 5"})
    void predefinedConstants(String expression, long value) {
        assertEquals(value, eval(expression));
    }

    @Test
    void guestCommands() {
        Statement.Guest rdtsc = assertInstanceOf(Statement.Guest.class, statement("guest 0 rdtsc -> t"));
        assertEquals(GuestOp.RDTSC, rdtsc.op());
        assertEquals(List.of("t"), rdtsc.targets());
        assertEquals(List.of("t", "aux"),
                ((Statement.Guest) statement("guest 1 rdtscp -> t aux")).targets());
        Statement.Guest rdmsr = (Statement.Guest) statement("guest 0 rdmsr IA32_TSC_ADJUST -> v");
        assertEquals(Msr.IA32_TSC_ADJUST, rdmsr.msr());
        Statement.Guest wrmsr = (Statement.Guest) statement("guest 0 wrmsr IA32_TSC (x << 30)");
        assertEquals(5L << 30, wrmsr.args().getFirst().eval(Map.of("x", 5L)));
        assertEquals(List.of(), wrmsr.targets());
        Statement.Guest cpuid = (Statement.Guest) statement("guest 0 cpuid 0x40000010 -> a _ c");
        assertEquals(1, cpuid.args().size());
        assertEquals(List.of("a", "_", "c"), cpuid.targets());
        assertEquals(2, ((Statement.Guest) statement("guest 0 cpuid 7 0 -> a b")).args().size());
        assertEquals(GuestOp.SPIN, ((Statement.Guest) statement("guest 0 spin 1000 -> f l")).op());
        assertEquals(GuestOp.BATCH, ((Statement.Guest) statement("guest 0 batch 100 -> n lo hi r")).op());
        Statement.Guest sync = (Statement.Guest) statement("guest all sync (2 * x) -> r i l");
        assertTrue(sync.cpu().all());
        assertEquals(10, sync.args().getFirst().eval(Map.of("x", 5L)));
    }

    @Test
    void letExpectPrint() {
        Statement.Expect chain = assertInstanceOf(Statement.Expect.class, statement("expect 1 <= x < 10 != 3"));
        assertEquals(List.of("<=", "<", "!="), chain.ops());
        assertEquals(4, chain.operands().size());
        assertNull(chain.tolerance());
        Statement.Expect tolerant = (Statement.Expect) statement("expect x == 3 +- 2");
        assertEquals(2, tolerant.tolerance().eval(Map.of()));
        assertEquals(3, tolerant.operands().get(1).eval(Map.of()));
        assertEquals(2, ((Statement.Expect) statement("expect x != 3 ± 2")).tolerance().eval(Map.of()));
        // "+ -" with a blank is addition of a negative number, not a tolerance.
        Statement.Expect sum = (Statement.Expect) statement("expect x == 3 + -2");
        assertNull(sum.tolerance());
        assertEquals(1, sum.operands().get(1).eval(Map.of()));
        Statement.Print print = assertInstanceOf(Statement.Print.class, statement("print x, x * 2"));
        assertEquals(List.of("x", "x * 2"), print.texts());
    }

    @Test
    void expectErrorWrapsAStepThatNeedNotBind() {
        Statement.ExpectError e = assertInstanceOf(Statement.ExpectError.class,
                statement("expect-error EINVAL set-tsc-khz 0 4294967295"));
        assertEquals(Errno.EINVAL, e.errno());
        assertEquals("set-tsc-khz 0 4294967295", e.step().text());
        assertEquals("set-tsc-khz", e.step().kind());
        Statement.ExpectError fault = (Statement.ExpectError) statement("expect-error fault guest 0 rdmsr 0x1234");
        assertNull(fault.errno());
        // Without '->' inside expect-error, and a name given there stays unbound.
        statement("expect-error ENOENT get-msr 5 IA32_TSC");
        assertEquals("x.tvs:5:8: unknown variable 'v'",
                error(PRELUDE + "expect-error ENOENT get-msr 5 IA32_TSC -> v\nexpect v == 0\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "1 + 2 * 3; 7", "(1 + 2) * 3; 9", "10 - 4 - 3; 3", "7 / 2; 3", "-7 / 2; -3", "-7 % 2; -1",
        "1 << 4 + 1; 32", "0xff & 0x0f; 15", "1 | 2 & 3; 3", "~0; -1", "-x; -5", "- -x; 5",
        "0xffff_ffff_ffff_ffff; -1", "0b1010; 10", "1_000_000; 1000000", "2s; 2000000000", "1us + 1ns; 1001",
        "(x + (1 << 30) / 2) & -(1 << 30); 0", "9_223_372_036_854_775_807; 9223372036854775807", "-8 >> 1; -4"})
    void expressionsFollowCPrecedence(String expression, long value) {
        assertEquals(value, eval(expression));
    }

    @Test
    void arithmeticNeverWrapsSilently() {
        Statement.Let let = (Statement.Let) statement("let y = x * 0x7fff_ffff_ffff_ffff");
        ScenarioRuntimeException e = assertThrows(ScenarioRuntimeException.class, () -> let.value().eval(Map.of("x", 5L)));
        assertEquals("arithmetic overflow (signed 64-bit) in 5 * 9223372036854775807", e.getMessage());
        Statement.Let div = (Statement.Let) statement("let y = 1 / (x - 5)");
        assertEquals("division by zero in 1 / 0",
                assertThrows(ScenarioRuntimeException.class, () -> div.value().eval(Map.of("x", 5L))).getMessage());
        Statement.Let shift = (Statement.Let) statement("let y = 1 << 64");
        assertEquals("shift count must be 0..63 in 1 << 64",
                assertThrows(ScenarioRuntimeException.class, () -> shift.value().eval(Map.of())).getMessage());
    }

    @Test
    void blankLinesAndCommentsAreNotSteps() {
        List<Step> steps = parse("# header\n\n   \nlet a = 1   # trailing\n\t# indented comment\nlet b = a\n");
        assertEquals(List.of(4, 6), steps.stream().map(Step::line).toList());
        assertEquals(List.of(1, 2), steps.stream().map(Step::number).toList());
        assertEquals("let a = 1", steps.getFirst().text());
    }

    // ---- syntax errors ---------------------------------------------------------------------------------

    @Test
    void unknownCommand() {
        assertEquals("x.tvs:3:9: unknown command 'rdtscc' (did you mean 'rdtsc'?)",
                error("host h\nvm host=h\nguest 0 rdtscc -> t\n"));
        assertEquals("x.tvs:1:1: unknown command 'frobnicate' (known: host, vm, advance, host-tsc, host-ns, host-realtime,"
                + " host-raw, host-tai, true-ns, set-host,"
                + " set-vm, get-vm, set-tsc-khz, get-tsc-khz, set-msr, get-msr, set-attr, get-attr, get-vcpu, get-clock,"
                + " set-clock, enable-kvmclock, get-pvclock, kvmclock-ctrl, pause, resume, save, restore, migrate, run, guest,"
                + " let, expect,"
                + " expect-error, print, repeat, for, sample)", error("frobnicate 1\n"));
        assertEquals("x.tvs:4:9: unknown command 'kvmclok' (did you mean 'kvmclock'?)",
                error(PRELUDE + "guest 0 kvmclok -> ns\n"));
        assertEquals("x.tvs:4:1: unknown command 'get-clok' (did you mean 'get-clock'?)", error(PRELUDE + "get-clok -> c\n"));
        assertEquals("x.tvs:1:1: unknown command 'expcet' (did you mean 'expect'?)", error("expcet 1 == 1\n"));
    }

    @Test
    void badNumber() {
        String help = " (integers only: decimal, 0x hex or 0b binary, _ separators, units ns us ms s)";
        assertEquals("x.tvs:4:9: bad number '12x4'" + help, error(PRELUDE + "advance 12x4\n"));
        assertEquals("x.tvs:1:9: bad number '1.5s'" + help, error("let a = 1.5s\n"));
        assertEquals("x.tvs:1:9: bad number '0xfg'" + help, error("let a = 0xfg\n"));
        assertEquals("x.tvs:1:13: bad number '10_'" + help, error("let a = 1 + 10_\n"));
        assertEquals("x.tvs:1:9: bad number '9223372036854775808': does not fit in a signed 64-bit value",
                error("let a = 9223372036854775808\n"));
        assertEquals("x.tvs:1:9: bad number '0x1_0000_0000_0000_0000': more than 64 bits",
                error("let a = 0x1_0000_0000_0000_0000\n"));
        assertEquals("x.tvs:1:9: bad number '10000000000s': does not fit in a signed 64-bit value",
                error("let a = 10000000000s\n"));
    }

    @Test
    void missingVcpuIndex() {
        assertEquals("x.tvs:4:9: missing vCPU index (a number such as 0, or 'all') before 'IA32_TSC':"
                + " get-msr CPU MSR -> NAME", error(PRELUDE + "get-msr IA32_TSC -> v\n"));
        assertEquals("x.tvs:4:13: missing vCPU index (a number such as 0, or 'all'): get-tsc-khz CPU -> NAME",
                error(PRELUDE + "get-tsc-khz -> k\n"));
        assertEquals("x.tvs:4:6: missing vCPU index (a number such as 0, or 'all'): guest CPU COMMAND ...",
                error(PRELUDE + "guest\n"));
        assertEquals("x.tvs:4:13: vCPU index 64 is out of range (a VM has at most 64 vCPUs): set-tsc-khz CPU KHZ",
                error(PRELUDE + "set-tsc-khz 64 1000000\n"));
    }

    @Test
    void unknownMsrName() {
        assertEquals("x.tvs:4:11: unknown MSR 'IA32_TSX' (did you mean 'IA32_TSC'?); or give its number, e.g. 0x10",
                error(PRELUDE + "get-msr 0 IA32_TSX -> v\n"));
        assertEquals("x.tvs:4:18: unknown MSR 'EFER' (known: IA32_TSC, IA32_TSC_ADJUST, TSC_AUX, MSR_KVM_WALL_CLOCK_NEW,"
                + " MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME); or give its number, e.g. 0x10",
                error(PRELUDE + "guest 0 wrmsr    EFER 1\n"));
        assertEquals("x.tvs:4:11: missing MSR (a name such as IA32_TSC, or a number such as 0x10): get-msr CPU MSR -> NAME",
                error(PRELUDE + "get-msr 0 -> v\n"));
    }

    @Test
    void missingArrowTarget() {
        assertEquals("x.tvs:4:19: missing '->' target: get-msr gives a value (value); bind it with '-> NAME'",
                error(PRELUDE + "get-msr 0 IA32_TSC\n"));
        assertEquals("x.tvs:4:22: missing variable name after '->'", error(PRELUDE + "get-msr 0 IA32_TSC ->   # none\n"));
        assertEquals("x.tvs:4:15: missing '->' target: guest rdtscp gives 2 values (tsc aux); bind it with '-> NAME'",
                error(PRELUDE + "guest 0 rdtscp\n"));
        assertEquals("x.tvs:4:20: guest rdtsc gives a value (tsc), but 2 names follow '->'",
                error(PRELUDE + "guest 0 rdtsc -> a b\n"));
        assertEquals("x.tvs:4:15: expected a variable name after '->', got '1'", error(PRELUDE + "host-tsc -> a 1\n"));
        assertEquals("x.tvs:4:22: guest wrmsr gives no value to bind", error(PRELUDE + "guest 0 wrmsr 0x10 0 -> v\n"));
    }

    @Test
    void unterminatedExpression() {
        assertEquals("x.tvs:1:15: unterminated expression: missing ')' for the '(' at column 9",
                error("let a = (1 + 2\n"));
        assertEquals("x.tvs:1:12: unterminated expression after '+'", error("let a = 1 +\n"));
        assertEquals("x.tvs:4:13: unterminated expression after '=='", error(PRELUDE + "expect x == # nothing\n"));
        assertEquals("x.tvs:4:24: unterminated expression: missing ')' for the '(' at column 16",
                error(PRELUDE + "set-msr 0 0x10 ((x + 1)\n"));
        assertEquals("x.tvs:1:8: missing expression after '='", error("let a =\n"));
        assertEquals("x.tvs:1:16: expected ')' for the '(' at column 9, got '2)'", error("let a = (1 + 2 2)\n"));
    }

    @Test
    void otherMistakes() {
        assertEquals("x.tvs:4:13: unknown variable 'y'", error(PRELUDE + "expect x == y\n"));
        assertEquals("x.tvs:1:1: 'advance' needs the VM: put a 'vm ...' line before it", error("advance 1s\n"));
        assertEquals("x.tvs:4:1: only one vm per file for now (the first is on line 2)", error(PRELUDE + "vm vcpus=1\n"));
        assertEquals("x.tvs:4:22: unexpected '*': put arithmetic in an argument between parentheses, e.g. (64 * UNITY)",
                error(PRELUDE + "set-msr 0 IA32_TSC x * 2\n"));
        assertEquals("x.tvs:4:11: only 'sync' and 'kvmclock-sync' run on all vCPUs at once; give 'rdtsc' one vCPU"
                + " index", error(PRELUDE + "guest all rdtsc -> t\n"));
        assertEquals("x.tvs:4:9: expect needs a comparison: == != < <= > >=", error(PRELUDE + "expect x\n"));
        assertEquals("x.tvs:4:14: a tolerance '+-' goes with a single == or != only", error(PRELUDE + "expect x < 3 +- 1\n"));
        assertEquals("x.tvs:4:14: unknown error 'EBUSY' (known: ENOENT, ENXIO, EFAULT, EEXIST, EINVAL, ERANGE, fault)",
                error(PRELUDE + "expect-error EBUSY get-msr 0 IA32_TSC\n"));
        assertEquals("x.tvs:4:21: expect-error needs a step that can fail (a control-plane, host or guest step), not 'let'",
                error(PRELUDE + "expect-error EINVAL let a = 1\n"));
        assertEquals("x.tvs:2:9: unknown host 'b': define it first with 'host b ...'", error("host a\nvm host=b\n"));
        assertEquals("x.tvs:3:1: several hosts are defined: say which one the VM runs on with host=NAME",
                error("host a\nhost b\nvm\n"));
        assertEquals("x.tvs:1:10: vcpus must be 1 to 64, got 65", error("vm vcpus=65\n"));
        assertEquals("x.tvs:1:8: unknown host setting 'tsc-mhz' (did you mean 'tsc-khz'?)", error("host a tsc-mhz=1\n"));
        assertEquals("x.tvs:1:26: give the crystal's frequency once: tsc-hz, crystal-ppm or crystal-ppb",
                error("host a tsc-hz=3000000000 crystal-ppm=40\n"));
        assertEquals("x.tvs:1:25: realtime-error is another name for ntp-offset: give one of them",
                error("host a realtime-error=1 ntp-offset=2\n"));
        assertEquals("x.tvs:4:10: unknown set-host setting 'ntp-slew' (known: ntp-offset, ntp-slew-ppb)",
                error(PRELUDE + "set-host ntp-slew=3\n"));
        assertEquals("x.tvs:4:10: unknown host 'nowhere': define it first with 'host nowhere ...'",
                error(PRELUDE + "set-host nowhere ntp-offset=1\n"));
        assertEquals("x.tvs:1:9: boot= takes yes or no, got 'maybe'", error("vm boot=maybe\n"));
        assertEquals("x.tvs:4:8: unknown VM value 'generation' (known: tsc-khz, tsc-generation, vcpus-matched,"
                + " master-clock, use-master-clock, kvmclock-offset, clock-update-due, clock-sync-due)",
                error(PRELUDE + "get-vm generation -> g\n"));
        assertEquals("x.tvs:4:12: unknown attribute 'tsc-ofset' (did you mean 'tsc-offset'?); or give its number",
                error(PRELUDE + "get-attr 0 tsc-ofset -> o\n"));
    }

    @Test
    void kvmclockMistakes() {
        assertEquals("x.tvs:4:18: unknown kvmclock read mode 'clamb' (did you mean 'clamp'?): guest CPU kvmclock"
                + " [trust|clamp|raw] -> NS [RETRIES FLAGS CLAMPED TSC]", error(PRELUDE + "guest 0 kvmclock clamb -> ns\n"));
        assertEquals("x.tvs:4:30: unknown kvmclock read mode 'fast' (known: trust, clamp, raw): guest CPU|all"
                + " kvmclock-sync READS [trust|clamp|raw] -> REGRESSIONS [CLAMPS LARGEST RETRIES]",
                error(PRELUDE + "guest all kvmclock-sync 1000 fast -> r\n"));
        assertEquals("x.tvs:4:25: missing a number of reads per vCPU: guest CPU|all kvmclock-sync READS"
                + " [trust|clamp|raw] -> REGRESSIONS [CLAMPS LARGEST RETRIES]",
                error(PRELUDE + "guest all kvmclock-sync -> r\n"));
        assertEquals("x.tvs:4:17: missing '->' target: guest kvmclock gives 5 values (ns retries flags clamped tsc);"
                + " bind it with '-> NAME'", error(PRELUDE + "guest 0 kvmclock\n"));
        assertEquals("x.tvs:4:30: guest wallclock gives 4 values (sec nsec version retries), but 5 names follow '->'",
                error(PRELUDE + "guest 0 wallclock -> a b c d e\n"));
        assertEquals("x.tvs:4:11: only 'sync' and 'kvmclock-sync' run on all vCPUs at once; give 'kvmclock' one vCPU"
                + " index", error(PRELUDE + "guest all kvmclock -> ns\n"));
        // torn-kvmclock: another vCPU writes.
        assertEquals("x.tvs:4:23: the writer must be another vCPU than the reader (1): the reader spins on its page"
                + " until the writer fixes it", error(PRELUDE + "guest 1 torn-kvmclock 1 1000 -> ns\n"));
        assertEquals("x.tvs:4:23: torn-kvmclock needs one writer vCPU, not 'all': guest CPU torn-kvmclock WRITER_CPU"
                + " DELAY_CYCLES -> NS [RETRIES FLAGS CLAMPED TSC]", error(PRELUDE + "guest 0 torn-kvmclock all 1000 -> ns\n"));
        assertEquals("x.tvs:4:25: missing a delay in TSC cycles: guest CPU torn-kvmclock WRITER_CPU DELAY_CYCLES -> NS"
                + " [RETRIES FLAGS CLAMPED TSC]", error(PRELUDE + "guest 0 torn-kvmclock 1 -> ns\n"));
        assertEquals("x.tvs:4:30: unexpected 'trust'", error(PRELUDE + "guest 0 torn-kvmclock 1 1000 trust -> ns\n"));
        // get-pvclock reads one page.
        assertEquals("x.tvs:4:13: get-pvclock reads one vCPU's page; give one vCPU index",
                error(PRELUDE + "get-pvclock all -> v\n"));
        assertEquals("x.tvs:4:14: missing '->' target: get-pvclock gives 6 values (version tsc_timestamp system_time"
                + " mul shift flags); bind it with '-> NAME'", error(PRELUDE + "get-pvclock 0\n"));
        assertEquals("x.tvs:4:10: missing '->' target: get-clock gives 4 values (clock flags realtime host_tsc);"
                + " bind it with '-> NAME'", error(PRELUDE + "get-clock\n"));
        assertEquals("x.tvs:4:16: missing vCPU index (a number such as 0, or 'all'): enable-kvmclock CPU|all",
                error(PRELUDE + "enable-kvmclock\n"));
        // set-clock.
        assertEquals("x.tvs:4:10: missing a kvmclock value in ns: set-clock CLOCK [realtime=NS] [flags=FLAGS]",
                error(PRELUDE + "set-clock\n"));
        assertEquals("x.tvs:4:13: unknown set-clock setting 'realtim' (did you mean 'realtime'?)",
                error(PRELUDE + "set-clock 0 realtim=5\n"));
        assertEquals("x.tvs:4:24: set-clock setting 'realtime' is given twice",
                error(PRELUDE + "set-clock 0 realtime=1 realtime=2\n"));
        assertEquals("x.tvs:4:22: expected '=' after 'realtime'", error(PRELUDE + "set-clock 0 realtime 5\n"));
        assertEquals("x.tvs:4:22: missing a realtime in ns: set-clock CLOCK realtime=VALUE",
                error(PRELUDE + "set-clock 0 realtime=\n"));
        assertEquals("x.tvs:4:13: set-clock gives no value to bind", error(PRELUDE + "set-clock 0 -> c\n"));
        assertEquals("x.tvs:4:13: unexpected '+': put arithmetic in an argument between parentheses, e.g. (64 * UNITY)",
                error(PRELUDE + "set-clock x + 1\n"));
        // set-vm pvclock-mode.
        assertEquals("x.tvs:4:21: unknown pvclock mode 'exakt' (did you mean 'exact'?)",
                error(PRELUDE + "set-vm pvclock-mode exakt\n"));
        assertEquals("x.tvs:4:20: missing pvclock mode (kvm-compat or exact): set-vm pvclock-mode kvm-compat|exact",
                error(PRELUDE + "set-vm pvclock-mode\n"));
        assertEquals("x.tvs:4:8: unknown VM setting 'pvclock' (known: tsc-khz, pvclock-mode)",
                error(PRELUDE + "set-vm pvclock exact\n"));
        assertEquals("x.tvs:4:12: unknown vCPU value 'pvclock-khz' (did you mean 'pvclock-hz'?)",
                error(PRELUDE + "get-vcpu 0 pvclock-khz -> hz\n"));
    }

    @Test
    void pauseAndResumeAreCheckedBeforeAnythingRuns() {
        assertEquals("x.tvs:6:1: the VM is paused (since line 4): 'guest' runs the guest; put 'resume' before it",
                error(PRELUDE + "pause\nadvance 30s\nguest 0 kvmclock -> ns\n"));
        assertEquals("x.tvs:5:1: the VM is paused (since line 4): 'enable-kvmclock' runs the guest; put 'resume'"
                + " before it", error(PRELUDE + "pause\nenable-kvmclock all\n"));
        assertEquals("x.tvs:5:20: the VM is paused (since line 4): 'guest' runs the guest; put 'resume' before it",
                error(PRELUDE + "pause\nexpect-error fault guest 0 rdmsr 0x1234\n"));
        assertEquals("x.tvs:5:1: the VM is already paused (since line 4)", error(PRELUDE + "pause\npause\n"));
        assertEquals("x.tvs:4:1: resume without pause: the VM is running", error(PRELUDE + "resume\n"));
        assertEquals("x.tvs:4:1: 'pause' needs the VM: put a 'vm ...' line before it", error("host h\nlet x = 1\nlet y = 2\npause\n"));
        assertEquals("x.tvs:4:21: expect-error needs a step that can fail (a control-plane, host or guest step), not"
                + " 'pause'", error(PRELUDE + "expect-error EINVAL pause\n"));
        assertEquals("x.tvs:4:7: unexpected 'now'", error(PRELUDE + "pause now\n"));
        // A pause line with a mistake still pauses, so the guest step after it is reported too.
        assertEquals(List.of("x.tvs:4:7: unexpected 'now'",
                "x.tvs:5:1: the VM is paused (since line 4): 'guest' runs the guest; put 'resume' before it"),
                errors(PRELUDE + "pause now\nguest 0 rdtsc -> t\nresume\nguest 0 rdtsc -> t\n").stream()
                        .map(SyntaxError::toString).toList());
        // Host-side steps are fine while paused.
        parse(PRELUDE + "pause\nget-clock -> c\nset-clock 0\nget-msr 0 IA32_TSC -> t\nget-pvclock 0 -> v\n"
                + "kvmclock-ctrl all\nadvance 1s\nresume\n");
    }

    @Test
    void constantsAreNotVariables() {
        assertEquals("x.tvs:1:5: 'REALTIME' is a predefined constant (4); choose another name", error("let REALTIME = 1\n"));
        assertEquals("x.tvs:4:16: 'TSC_STABLE' is a predefined constant (2); choose another name",
                error(PRELUDE + "get-clock -> c TSC_STABLE\n"));
        assertEquals("x.tvs:4:12: 'PVCLOCK_GUEST_STOPPED' is a predefined constant (2); choose another name",
                error(PRELUDE + "host-ns -> PVCLOCK_GUEST_STOPPED\n"));
        // A constant needs no binding, and the names around it are still checked.
        assertEquals("x.tvs:1:20: unknown variable 'REALTIMES'", error("let a = REALTIME | REALTIMES\n"));
    }

    @Test
    void everyBadLineIsReportedWithoutCascades() {
        List<SyntaxError> errors = errors("""
                host h
                vm host=h
                let a = 1 +
                guest 0 rdtsc -> t extra_name
                expect a == t
                get-msr 0 IA32_TSC
                vm vcpus=2
                """);
        assertEquals(List.of(
                "x.tvs:3:12: unterminated expression after '+'",
                "x.tvs:4:20: guest rdtsc gives a value (tsc), but 2 names follow '->'",
                "x.tvs:6:19: missing '->' target: get-msr gives a value (value); bind it with '-> NAME'",
                "x.tvs:7:1: only one vm per file for now (the first is on line 2)"),
                errors.stream().map(SyntaxError::toString).toList());
        assertEquals("x.tvs:3:12: unterminated expression after '+'\n    let a = 1 +\n               ^",
                errors.getFirst().withContext());
    }

    @Test
    void aVmLineWithAnErrorStillCountsAsTheVm() {
        assertEquals(List.of("x.tvs:1:4: unknown vm setting 'cpus' (did you mean 'vcpus'?)"),
                errors("vm cpus=2\nadvance 1s\n").stream().map(SyntaxError::toString).toList());
        assertAll(() -> assertEquals(Msr.IA32_TSC, (int) ScenarioParser.MSRS.get("IA32_TSC")),
                () -> assertEquals("IA32_TSC", ScenarioParser.msrName(Msr.IA32_TSC)),
                () -> assertEquals("0x1234", ScenarioParser.msrName(0x1234)));
    }

    // ---- issue 10: frequencies with units, print's hex ----------------------------------------------

    @Test
    void frequenciesWithUnitsConvertExactlyToTheKeysUnit() {
        Statement.DefineHost host = assertInstanceOf(Statement.DefineHost.class,
                parse("host a tsc-khz=2.5GHz\n").getFirst().statement());
        assertEquals(2_500_000L, host.settings().get("tsc-khz").eval(Map.of()));
        Statement.DefineHost hz = assertInstanceOf(Statement.DefineHost.class,
                parse("host b tsc-hz=2_999_999_500Hz\n").getFirst().statement());
        assertEquals(2_999_999_500L, hz.settings().get("tsc-hz").eval(Map.of()));
        Statement.DefineHost ghz = assertInstanceOf(Statement.DefineHost.class,
                parse("host c tsc-hz=2.999_999_999GHz\n").getFirst().statement());
        assertEquals(2_999_999_999L, ghz.settings().get("tsc-hz").eval(Map.of()), "digits after the point");
        Statement.CreateVm vm = assertInstanceOf(Statement.CreateVm.class, parse("vm tsc-khz=1500MHz\n").getFirst()
                .statement());
        assertEquals(1_500_000L, vm.tscKhz().eval(Map.of()));
        Statement.SetVcpu set = assertInstanceOf(Statement.SetVcpu.class, statement("set-tsc-khz 0 3_000_000kHz"));
        assertEquals(3_000_000L, set.value().eval(Map.of()));
        Statement.SetVm setVm = assertInstanceOf(Statement.SetVm.class, statement("set-vm tsc-khz 2.25GHz"));
        assertEquals(2_250_000L, setVm.value().eval(Map.of()));
        Statement.SetVm bare = assertInstanceOf(Statement.SetVm.class, statement("set-vm tsc-khz (x * 1000)"));
        assertEquals(5_000L, bare.value().eval(Map.of("x", 5L)), "no unit: kHz as before");
    }

    @Test
    void frequencyErrorsSayWhy() {
        assertEquals("x.tvs:1:16: frequency 2_999_999_500Hz is 2,999,999,500 Hz, not a whole number of kHz (this key"
                + " takes kHz: host NAME tsc-khz=KHZ)", error("host a tsc-khz=2_999_999_500Hz\n"));
        assertEquals("x.tvs:1:15: frequency 2.5Hz is not a whole number of Hz", error("host a tsc-hz=2.5Hz\n"));
        assertEquals("x.tvs:1:15: frequency 2.999_999_999_5GHz is not a whole number of Hz",
                error("host a tsc-hz=2.999_999_999_5GHz\n"));
        assertEquals("x.tvs:4:9: a frequency unit (Hz kHz MHz GHz) goes only where a frequency is expected: host"
                + " tsc-khz= and tsc-hz=, vm tsc-khz=, set-tsc-khz, set-vm tsc-khz", error(PRELUDE + "let f = 3GHz\n"));
        assertEquals("x.tvs:1:12: bad number '2.5' (integers only: decimal, 0x hex or 0b binary, _ separators, units ns"
                + " us ms s)", error("vm vcpus=1 tsc-khz=2.5\n".replace("vcpus=1 ", "")));
        assertEquals("x.tvs:1:16: bad frequency '3_GHz' (digits with _ separators, e.g. 2.5GHz or 3_000_000kHz)",
                error("host a tsc-khz=3_GHz\n"));
        assertEquals("x.tvs:1:16: frequency 99_999_999_999_999GHz does not fit in a signed 64-bit value",
                error("host a tsc-khz=99_999_999_999_999GHz\n"));
    }

    @Test
    void printMarksHexValues() {
        Statement.Print print = assertInstanceOf(Statement.Print.class, statement("print x, x * 2:x"));
        assertEquals(List.of("x", "x * 2"), print.texts());
        assertEquals(java.util.Set.of(1), print.hex());
        assertEquals("x.tvs:4:9: unknown print format 'd' (':x' prints in hex)", error(PRELUDE + "print x:d\n"));
    }

    // ---- issue 10: loops --------------------------------------------------------------------------

    @Test
    void loopsHoldTheirBodies() {
        List<Step> steps = parse(PRELUDE + """
                repeat x - 2 {      # three times
                  advance 1s
                  for i in 1..x {
                    host-tsc -> h
                    print i, h
                  }
                }
                expect h > 0
                """);
        assertEquals(5, steps.size());
        Step repeat = steps.get(3);
        Statement.Loop outer = assertInstanceOf(Statement.Loop.class, repeat.statement());
        assertAll(() -> assertEquals("repeat x - 2", repeat.text()),
                () -> assertEquals("repeat", repeat.kind()),
                () -> assertEquals(4, repeat.line()),
                () -> assertEquals(4, repeat.number()),
                () -> assertNull(outer.variable()),
                () -> assertEquals(3, outer.count().eval(Map.of("x", 5L))),
                () -> assertEquals(2, outer.body().size()));
        Step forStep = outer.body().get(1);
        Statement.Loop inner = assertInstanceOf(Statement.Loop.class, forStep.statement());
        assertAll(() -> assertEquals("for i in 1..x", forStep.text()),
                () -> assertEquals(6, forStep.line()),
                () -> assertEquals(6, forStep.number()),
                () -> assertEquals("i", inner.variable()),
                () -> assertEquals(1, inner.from().eval(Map.of())),
                () -> assertEquals(List.of(7, 8), inner.body().stream().map(Step::line).toList()),
                () -> assertEquals(9, steps.get(4).number()));
    }

    @Test
    void loopSyntaxErrors() {
        assertAll(
                () -> assertEquals("x.tvs:4:9: expected '{' at the end of the repeat line, got ''"
                        + " (the body goes on the next lines, up to a '}' line)", errors(PRELUDE + "repeat 3\n")
                        .getFirst().toString()),
                () -> assertEquals("x.tvs:4:8: missing count: repeat N {", error(PRELUDE + "repeat {\n}\n")),
                () -> assertEquals("x.tvs:4:10: this loop's '{' is never closed: put a '}' line after its body",
                        error(PRELUDE + "repeat 3 {\nadvance 1s\n")),
                () -> assertEquals("x.tvs:4:1: '}' without a loop to close", error(PRELUDE + "}\n")),
                () -> assertEquals("x.tvs:5:3: unexpected 'else'", error(PRELUDE + "repeat 2 {\n} else\n")),
                () -> assertEquals("x.tvs:4:5: missing loop variable: for NAME in FROM..TO {",
                        error(PRELUDE + "for 1..3 {\n}\n")),
                () -> assertEquals("x.tvs:4:7: expected 'in' after 'for i': for NAME in FROM..TO {",
                        error(PRELUDE + "for i 1..3 {\n}\n")),
                () -> assertEquals("x.tvs:4:12: expected '..' in the range, got '3': for NAME in FROM..TO {",
                        error(PRELUDE + "for i in 1 3 {\n}\n")),
                () -> assertEquals("x.tvs:4:13: missing end of the range after '..': for NAME in FROM..TO {",
                        error(PRELUDE + "for i in 1..{\n}\n")),
                () -> assertEquals("x.tvs:4:5: loop variable 'x' is already a variable: choose another name",
                        error(PRELUDE + "for x in 1..3 {\n}\n")),
                () -> assertEquals("x.tvs:4:5: 'REALTIME' is a predefined constant (4); choose another name",
                        error(PRELUDE + "for REALTIME in 1..3 {\n}\n")),
                () -> assertEquals("x.tvs:5:5: 'i' is the loop variable of line 4: the loop binds it; choose another"
                        + " name", error(PRELUDE + "for i in 1..3 {\nlet i = 2\n}\n")),
                () -> assertEquals("x.tvs:5:13: 'i' is the loop variable of line 4: the loop binds it; choose another"
                        + " name", error(PRELUDE + "for i in 1..3 {\nhost-tsc -> i\n}\n")),
                () -> assertEquals("x.tvs:6:7: unknown variable 'i'", error(PRELUDE + "for i in 1..3 {\n}\nprint i\n")),
                () -> assertEquals("x.tvs:5:3: 'pause' cannot go inside a loop (host, vm, pause, resume, save, restore,"
                        + " migrate happen once): put it before or after the loop",
                        error(PRELUDE + "repeat 2 {\n  pause\n}\n")),
                () -> assertEquals("x.tvs:5:1: 'vm' cannot go inside a loop (host, vm, pause, resume, save, restore,"
                        + " migrate happen once): put it before or after the loop",
                        error("host h\nvm host=h vcpus=2\nlet x = 5\nrepeat 2 {\nvm\n}\n")),
                () -> assertEquals("x.tvs:5:9: 'watch-start' cannot go inside a loop: start and stop a watch outside it",
                        error(PRELUDE + "repeat 2 {\nguest 0 watch-start\n}\n")),
                () -> assertEquals("x.tvs:2:1: 'advance' needs the VM: put a 'vm ...' line before it",
                        error("repeat 2 {\nadvance 1s\n}\n")),
                () -> assertEquals("x.tvs:4:21: expect-error needs a step that can fail (a control-plane, host or guest"
                        + " step), not 'repeat'", error(PRELUDE + "expect-error EINVAL repeat 2 {\n}\n")),
                () -> assertEquals("x.tvs:8:1: loops nest at most 4 deep (this one would be the 5th)",
                        error("repeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\n}\n}\n}\n}\n}\n"
                                .replace("repeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {",
                                        "# one\n# two\n# three\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {"
                                                + "\nrepeat 1 {"))));
        // A broken header still opens its loop: its '}' is no error, nor its variable's uses.
        assertEquals(List.of("x.tvs:4:10: unknown variable 'nope'"),
                errors(PRELUDE + "for i in nope..3 {\nprint i\n}\n").stream().map(SyntaxError::toString).toList());
        // The paused state is checked inside the body as everywhere.
        assertEquals("x.tvs:6:1: the VM is paused (since line 4): 'run' runs the guest; put 'resume' before it",
                error(PRELUDE + "pause\nrepeat 2 {\nrun 1s\n}\nresume\n"));
    }

    // ---- issue 10: sample ---------------------------------------------------------------------------

    @Test
    void sampleReadsHostSideSources() {
        Statement.Sample sample = assertInstanceOf(Statement.Sample.class, statement("sample host-tsc, get-clock,"
                + " true-ns, get-msr 1 IA32_TSC, get-vcpu 0 tsc-generation, get-attr 0 tsc-offset every 100ms"
                + " for (x * 1s) -> out/drift.csv"));
        assertAll(() -> assertEquals(List.of("host_tsc", "clock", "true_ns", "vcpu1_IA32_TSC", "vcpu0_tsc_generation",
                        "vcpu0_tsc_offset"), sample.columns()),
                () -> assertEquals(new Statement.HostRead("tsc", List.of()), sample.sources().getFirst()),
                () -> assertEquals(new Statement.GetVcpu(Statement.Getter.MSR, new Cpu(1), Msr.IA32_TSC, null,
                        List.of()), sample.sources().get(3)),
                () -> assertEquals(100_000_000L, sample.every().eval(Map.of())),
                () -> assertEquals(5_000_000_000L, sample.duration().eval(Map.of("x", 5L))),
                () -> assertEquals("out/drift.csv", sample.file()));
    }

    @Test
    void sampleSyntaxErrors() {
        String usage = "sample SOURCE[, SOURCE ...] every DURATION for DURATION -> FILE";
        assertAll(
                () -> assertEquals("x.tvs:4:7: missing sample source (host-tsc, host-ns, host-raw, host-realtime,"
                        + " host-tai, true-ns, get-clock, get-msr, get-vcpu, get-attr): " + usage,
                        error(PRELUDE + "sample\n")),
                () -> assertEquals("x.tvs:4:8: unknown sample source 'host-tcs' (did you mean 'host-tsc'?)",
                        error(PRELUDE + "sample host-tcs every 1s for 2s -> a.csv\n")),
                () -> assertEquals("x.tvs:4:8: unknown sample source 'guest' (known: host-tsc, host-ns, host-raw,"
                        + " host-realtime, host-tai, true-ns, get-clock, get-msr, get-vcpu, get-attr)",
                        error(PRELUDE + "sample guest 0 rdtsc every 1s for 2s -> a.csv\n")),
                () -> assertEquals("x.tvs:4:16: a sample source reads one vCPU; give its index, not 'all'",
                        error(PRELUDE + "sample get-msr all IA32_TSC every 1s for 2s -> a.csv\n")),
                () -> assertEquals("x.tvs:4:17: expected 'every', got 'for': " + usage,
                        error(PRELUDE + "sample host-tsc for 2s -> a.csv\n")),
                () -> assertEquals("x.tvs:4:26: expected 'for', got '->': " + usage,
                        error(PRELUDE + "sample host-tsc every 1s -> a.csv\n")),
                () -> assertEquals("x.tvs:4:32: missing '-> FILE': " + usage,
                        error(PRELUDE + "sample host-tsc every 1s for 2s\n")),
                () -> assertEquals("x.tvs:4:36: sample would overwrite the scenario file itself; write the CSV to"
                        + " another file", error(PRELUDE + "sample host-tsc every 1s for 2s -> x.tvs\n")),
                () -> assertEquals("x.tvs:1:1: 'sample' needs the VM: put a 'vm ...' line before it",
                        error("sample host-tsc every 1s for 2s -> a.csv\n")),
                () -> assertEquals("x.tvs:4:21: expect-error needs a step that can fail (a control-plane, host or guest"
                        + " step), not 'sample'", error(PRELUDE + "expect-error EINVAL sample host-tsc every 1s for 2s"
                        + " -> a.csv\n")),
                () -> assertEquals("x.tvs:4:23: unknown variable 'y'",
                        error(PRELUDE + "sample host-tsc every y for 2s -> a.csv\n")));
    }

    // ---- hostile expressions: refused at line:column, never a StackOverflowError ----------------

    @Test
    void parenthesesNestAtMost64Deep() {
        String ok = "(".repeat(ScenarioParser.MAX_PAREN_DEPTH) + "x + 1" + ")".repeat(ScenarioParser.MAX_PAREN_DEPTH);
        assertEquals(6, eval(ok));
        // The 65th '(' is at column 9 + 64 of "let y = ((...".
        assertEquals("x.tvs:4:73: parentheses nest more than 64 deep",
                error(PRELUDE + "let y = " + "(".repeat(1_500) + "1" + ")".repeat(1_500) + "\n"));
    }

    @Test
    void oneLineHoldsAtMostAThousandOperators() {
        assertEquals(5 + 999, eval("x" + " + 1".repeat(999)));
        assertEquals(5, eval("-".repeat(1_000) + "x"));
        String plus = error(PRELUDE + "let y = 1" + "+1".repeat(10_000) + "\n");
        assertEquals("x.tvs:4:2010: more than 1000 operators on one line; split the expression with let", plus);
        String minus = error(PRELUDE + "let y = " + "-".repeat(100_000) + "1\n");
        assertEquals("x.tvs:4:1009: more than 1000 operators on one line; split the expression with let", minus);
    }
}
