package dev.tickvm.scenario;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.scenario.ScenarioReport.Status;
import dev.tickvm.scenario.ScenarioReport.StepReport;
import dev.tickvm.scenario.Statement.Cpu;
import dev.tickvm.scenario.Statement.Step;
import dev.tickvm.unicorn.Unicorn;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Running scenarios: expectations, expect-error, and runtime errors that stop the run. */
class ScenarioRunnerTest {

    private static ScenarioReport run(String text, List<StepReport> progress) {
        try {
            return new ScenarioRunner(Unicorn::get).run(Scenario.parse("t.tvs", text), progress::add);
        } catch (ScenarioSyntaxException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    private static ScenarioReport run(String text) {
        return run(text, new ArrayList<>());
    }

    private static List<Status> statuses(ScenarioReport report) {
        return report.steps().stream().map(StepReport::status).toList();
    }

    @Test
    void aRuntimeErrorStopsTheRunAndNothingAfterItRuns() {
        List<StepReport> seen = new ArrayList<>();
        ScenarioReport report = run("""
                host h
                vm host=h vcpus=1
                set-msr 0 IA32_TSC 1000
                get-msr 0 0x1234 -> v        # KVM_GET_MSRS of an MSR KVM does not know: EINVAL
                set-msr 0 IA32_TSC 5
                let after = 1
                expect after == 1
                """, seen);
        assertEquals(List.of(Status.OK, Status.OK, Status.OK, Status.ERROR, Status.NOT_RUN, Status.NOT_RUN, Status.NOT_RUN),
                statuses(report));
        StepReport error = report.steps().get(3);
        assertAll(
                () -> assertEquals("EINVAL: KVM_GET_MSRS: MSR (0x1234) is not supported", error.message()),
                () -> assertEquals(4, report.stoppedAt().line()),
                () -> assertEquals(4, report.stoppedAt().step()),
                () -> assertEquals("get-msr 0 0x1234 -> v", report.stoppedAt().text()),
                () -> assertEquals("t.tvs:4: step 4 'get-msr 0 0x1234 -> v' failed: EINVAL: KVM_GET_MSRS: MSR (0x1234)"
                        + " is not supported; the run stops here (3 later steps not run)", report.stoppedAt().message()),
                // Only the steps that ran were reported as they ran; the later ones have no results.
                () -> assertEquals(4, seen.size()),
                () -> assertNull(report.steps().get(4).hostNanos()),
                () -> assertEquals(Map.of(), report.steps().get(5).results()),
                () -> assertNull(report.steps().get(6).message()),
                () -> assertEquals(0, report.passed()),
                () -> assertEquals(1, report.failed()),
                () -> assertFalse(report.ok()),
                () -> assertEquals(1, report.exitCode()),
                () -> assertEquals("0 passed, 1 failed", report.summary()));
    }

    @Test
    void aMissingVcpuAGuestFaultAndAnOverflowEachStopTheRun() {
        ScenarioReport missing = run("vm vcpus=1\nget-tsc-khz 3 -> k\nlet a = 1\n");
        assertEquals(List.of(Status.OK, Status.ERROR, Status.NOT_RUN), statuses(missing));
        assertEquals("ENOENT: no vCPU 3 (the VM has 1)", missing.steps().get(1).message());

        ScenarioReport fault = run("vm vcpus=1\nguest 0 rdmsr 0x1234 -> v\nlet a = 1\n");
        assertEquals(List.of(Status.OK, Status.ERROR, Status.NOT_RUN), statuses(fault));
        String message = fault.steps().get(1).message();
        assertTrue(message.startsWith("guest fault: vCPU 0: ") && message.contains("RDMSR MSR 0x1234"), message);
        assertEquals(2, fault.stoppedAt().line());

        ScenarioReport overflow = run("let a = 0x7fff_ffff_ffff_ffff\nlet b = a + 1\nprint a\n");
        assertEquals(List.of(Status.OK, Status.ERROR, Status.NOT_RUN), statuses(overflow));
        assertEquals("arithmetic overflow (signed 64-bit) in 9223372036854775807 + 1", overflow.steps().get(1).message());
    }

    @Test
    void aWatchSeesWhatTheHostDidBetweenItsStartAndStop() {
        ScenarioReport report = run("""
                vm vcpus=2
                enable-kvmclock 1
                guest 1 watch-start raw 2s
                advance 1s
                guest 1 watch-stop -> jumps backs step _ kvmclock_jumps _ kvmclock_step
                expect jumps + kvmclock_jumps + backs == 0
                expect 1s < step < 1s + 1us
                expect 1s < kvmclock_step < 1s + 1us
                """);
        assertEquals(List.of(Status.OK, Status.OK, Status.OK, Status.OK, Status.OK, Status.PASS, Status.PASS,
                Status.PASS), statuses(report));
        String started = report.steps().get(2).message();
        assertTrue(started.matches("vCPU 1 watches its TSC and kvmclock \\(raw\\) from TSC [0-9,]+; a jump is a step"
                + " above 2,000,000,000 ns"), started);
        assertEquals(0L, report.steps().get(4).results().get("jumps"), "1 s is no jump above 2 s");

        ScenarioReport noKvmclock = run("vm vcpus=1\nguest 0 watch-start trust\nlet a = 1\n");
        assertEquals(List.of(Status.OK, Status.ERROR, Status.NOT_RUN), statuses(noKvmclock));
        assertEquals("vCPU 0 has no kvmclock to watch: put 'enable-kvmclock 0' before it, or watch the TSC only"
                + " ('watch-start tsc')", noKvmclock.steps().get(1).message());

        ScenarioReport zero = run("vm vcpus=1\nguest 0 watch-start tsc 0\n");
        assertEquals("watch-start threshold must be >= 1 ns, got 0", zero.steps().get(1).message());
    }

    @Test
    void expectationsWithAndWithoutTolerance() {
        // No VM: the engine is never asked for.
        ScenarioReport report;
        try {
            report = new ScenarioRunner(() -> {
                throw new AssertionError("no VM, no Unicorn");
            }).run(Scenario.parse("t.tvs", """
                    let a = 3_000_004
                    expect a == 3_000_000 +- 4
                    expect a == 3_000_000 +- 3
                    expect a != 3_000_000 +- 3
                    expect a != 3_000_000 +- 4
                    expect 1 <= a <= 3_000_004
                    expect 1 <= a < 3_000_004
                    expect a == 3_000_000
                    expect -1 < 0 < 0x7fff_ffff_ffff_ffff
                    """), r -> { });
        } catch (ScenarioSyntaxException e) {
            throw new AssertionError(e);
        }
        assertEquals(List.of(Status.OK, Status.PASS, Status.FAIL, Status.PASS, Status.FAIL, Status.PASS, Status.FAIL,
                Status.FAIL, Status.PASS), statuses(report));
        List<String> messages = report.steps().stream().map(StepReport::message).toList();
        assertEquals(List.of("a = 3,000,004", "3,000,004 == 3,000,000 +- 4", "3,000,004 == 3,000,000 +- 3; differ by 4",
                "3,000,004 != 3,000,000 +- 3", "3,000,004 != 3,000,000 +- 4", "1 <= 3,000,004 <= 3,000,004",
                "1 <= 3,000,004 < 3,000,004", "3,000,004 == 3,000,000; differ by 4",
                "-1 < 0 < 9,223,372,036,854,775,807"), messages);
        assertEquals(List.of(3_000_004L, 3_000_000L, 4L), report.steps().get(1).values());
        assertEquals(List.of(1L, 3_000_004L, 3_000_004L), report.steps().get(5).values());
        assertAll(() -> assertEquals(4, report.passed()), () -> assertEquals(4, report.failed()),
                () -> assertNull(report.stoppedAt()), () -> assertEquals(1, report.exitCode()));
    }

    /** Issue 11.10: an overflow was "java.lang.ArithmeticException: long overflow"; now the step says what. */
    @Test
    void anOverflowIsARuntimeErrorThatSaysWhat() {
        ScenarioReport advance = run("""
                host h
                vm host=h vcpus=1
                advance 9223372036854775807
                """);
        assertEquals(List.of(Status.OK, Status.OK, Status.ERROR), statuses(advance));
        assertEquals("t.tvs:3: step 3 'advance 9223372036854775807' failed: advance by 9,223,372,036,854,775,807 ns"
                + " would take the host clock past 2^63-1 ns (292 years): at most "
                + String.format(java.util.Locale.ROOT, "%,d", Long.MAX_VALUE - advance.steps().get(1).hostNanos())
                + " ns are left; the run stops here (0 later steps not run)", advance.stoppedAt().message());
        ScenarioReport run = run("""
                host h
                vm host=h vcpus=1
                advance 1s
                run 9223372036854775807
                """);
        assertEquals(List.of(Status.OK, Status.OK, Status.OK, Status.ERROR), statuses(run));
        assertEquals("run: a value it computes would pass the 64-bit range (2^63-1; as nanoseconds, 292 years): use"
                + " smaller numbers", run.steps().get(3).message());
        // The check comes before the VM is saved and closed: the run ends cleanly, its report whole.
        ScenarioReport migrate = run("""
                host a
                host b
                vm host=a vcpus=2
                migrate to=b downtime=9223372036854775807
                """);
        assertEquals(List.of(Status.OK, Status.OK, Status.OK, Status.ERROR), statuses(migrate));
        assertEquals("a downtime of 9,223,372,036,854,775,807 ns and a stagger of 0 ns would take the host clock past"
                + " 2^63-1 ns (292 years): at most " + String.format(java.util.Locale.ROOT, "%,d",
                Long.MAX_VALUE - migrate.steps().get(2).hostNanos()) + " ns are left", migrate.steps().get(3).message());
    }

    /** Issue 11.11: a difference past 64 bits printed "differ by )"; it is told exactly, however far. */
    @Test
    void aDifferencePast64BitsIsToldExactly() {
        ScenarioReport report;
        try {
            report = new ScenarioRunner(() -> {
                throw new AssertionError("no VM, no Unicorn");
            }).run(Scenario.parse("t.tvs", """
                    let c = -9223372036854775807 - 1
                    expect c == 1 +- 9223372036854775807
                    expect 9223372036854775807 == c
                    """), r -> { });
        } catch (ScenarioSyntaxException e) {
            throw new AssertionError(e);
        }
        assertEquals(List.of(Status.OK, Status.FAIL, Status.FAIL), statuses(report));
        assertEquals(List.of("c = -9,223,372,036,854,775,808",
                "-9,223,372,036,854,775,808 == 1 +- 9,223,372,036,854,775,807; differ by -9,223,372,036,854,775,809",
                "9,223,372,036,854,775,807 == -9,223,372,036,854,775,808; differ by 18,446,744,073,709,551,615"),
                report.steps().stream().map(StepReport::message).toList());
    }

    @Test
    void expectErrorPassesOnlyOnTheErrorItNames() {
        ScenarioReport report = run("""
                vm vcpus=1
                expect-error EINVAL set-tsc-khz 0 4294967295
                expect-error ENOENT set-tsc-khz 0 4294967295
                expect-error EINVAL set-tsc-khz 0 2000000
                expect-error fault get-msr 0 0x1234
                expect-error ENOENT get-msr 1 IA32_TSC -> v
                expect-error fault guest 0 rdmsr 0x1234
                host-tsc -> h
                guest 0 rdtsc -> t
                """);
        assertEquals(List.of(Status.OK, Status.PASS, Status.FAIL, Status.FAIL, Status.FAIL, Status.PASS, Status.PASS,
                Status.OK, Status.ERROR), statuses(report));
        List<String> messages = report.steps().stream().map(StepReport::message).toList();
        assertEquals("EINVAL: TSC frequency 4294967295 kHz out of range (this host gives at most 2147483646 kHz)",
                messages.get(1));
        assertEquals("expected ENOENT, got EINVAL: TSC frequency 4294967295 kHz out of range (this host gives at most"
                + " 2147483646 kHz)", messages.get(2));
        assertEquals("expected EINVAL, but the step succeeded: vCPU 0: TSC kHz := 2,000,000", messages.get(3));
        assertEquals("expected a guest fault, got EINVAL: KVM_GET_MSRS: MSR (0x1234) is not supported", messages.get(4));
        assertEquals("ENOENT: no vCPU 1 (the VM has 1)", messages.get(5));
        assertTrue(messages.get(6).startsWith("guest fault: vCPU 0: ") && messages.get(6).contains("MSR 0x1234"),
                messages.get(6));
        // The faulted vCPU is stuck on its RDMSR: the guest cannot run again, the host side can.
        assertEquals("the guest cannot run any more: a vCPU stopped on a fault at line 7 (step 7): " + messages.get(6),
                messages.get(8));
        assertAll(() -> assertEquals(3, report.passed()), () -> assertEquals(4, report.failed()),
                () -> assertNotNull(report.stoppedAt()));
    }

    @Test
    void aHostWhoseTscIsNotAWholeNumberOfKhz() {
        ScenarioReport report = run("""
                host odd tsc-hz=2_999_999_999
                vm host=odd
                get-vm tsc-khz -> khz
                expect khz == 2_999_999                # the host kernel's tsc_khz, truncated
                host-ns -> n
                advance (2s - n)
                host-tsc -> h
                expect h == 5_999_999_998
                """);
        assertEquals(2, report.passed(), () -> report.steps().toString());
        assertEquals("odd: TSC 2,999,999 kHz (crystal 2,999,999,999 Hz), VMX (48 frac bits), stable, TSC 0 at boot",
                report.steps().getFirst().message());
    }

    @Test
    void aGetOnAllVcpusBindsTheSmallestAndLargest() {
        ScenarioReport report = run("""
                vm vcpus=3 tsc-khz=2000000
                set-tsc-khz 1 1000000
                set-tsc-khz 2 2500000
                get-tsc-khz all -> lo hi
                expect lo == 1_000_000
                expect hi == 2_500_000
                guest all sync 100_000 -> regressions
                expect regressions > 0       # at three rates the TSCs cannot agree
                """);
        assertEquals(0, report.failed(), () -> report.steps().toString());
        assertEquals("all 3 vCPUs: lo = 1,000,000  hi = 2,500,000", report.steps().get(3).message());
        assertTrue(report.steps().get(6).message().startsWith("all 3 vCPUs: regressions = 1  (iterations "),
                report.steps().get(6).message());
    }

    @Test
    void kvmclockStepsAndWhatTheySay() {
        ScenarioReport report = run("""
                host h tsc-khz=3000000
                vm host=h vcpus=2
                expect-error EINVAL kvmclock-ctrl 0
                enable-kvmclock 0
                get-pvclock 1 -> version
                expect version == 0
                get-clock -> clock flags
                expect flags == TSC_STABLE | REALTIME | HOST_TSC
                host-realtime -> now
                set-clock 0 realtime=(now - 1s)
                get-clock -> clock
                expect clock == 1s
                get-vm kvmclock-offset -> offset
                host-raw -> raw
                expect offset == 1s - raw
                kvmclock-ctrl 0
                get-vcpu 0 pending-requests -> pending
                expect pending == REQ_CLOCK_UPDATE
                guest 0 kvmclock -> ns
                get-pvclock 0 -> version _ system_time _ _ flags
                expect flags == PVCLOCK_TSC_STABLE_BIT | PVCLOCK_GUEST_STOPPED
                expect system_time == 1s
                expect-error ENOENT guest 0 torn-kvmclock 5 100 -> ns
                expect-error EINVAL set-clock 0 flags=1
                set-vm pvclock-mode exact
                get-vcpu all pvclock-hz -> lo hi
                expect lo == hi == 3_000_000_000
                get-vm use-master-clock -> master
                expect master == 1
                """);
        assertEquals(0, report.failed(), () -> report.steps().toString());
        List<String> messages = report.steps().stream().map(StepReport::message).toList();
        assertAll(
                () -> assertEquals("EINVAL: KVM_KVMCLOCK_CTRL: vCPU 0 has no kvmclock page", messages.get(2)),
                () -> assertEquals("vCPU 0: the guest wrote MSR_KVM_SYSTEM_TIME_NEW; pvclock page at 0xa000, flags 0x1"
                        + " (TSC_STABLE); master clock in use", messages.get(3)),
                () -> assertEquals("version = 0  (tsc_timestamp 0, system_time 0, mul 0, shift 0, flags 0x0)"
                        + "  (kvmclock not enabled on vCPU 1)", messages.get(4)),
                () -> assertTrue(messages.get(6).matches("clock = \\d+  flags = 0xe \\(TSC_STABLE\\|REALTIME\\|HOST_TSC\\)"
                        + "  \\(realtime [0-9,]+, host_tsc [0-9,]+\\)"), messages.get(6)),
                () -> assertTrue(messages.get(9).startsWith("KVM_SET_CLOCK flags 0x4 (REALTIME): kvmclock ="
                        + " 1,000,000,000 (0 + 1,000,000,000 ns of realtime since the one given), kvmclock_offset "),
                        messages.get(9)),
                () -> assertEquals("vCPU 0: KVM_KVMCLOCK_CTRL: PVCLOCK_GUEST_STOPPED goes on the pvclock page at"
                        + " the next entry", messages.get(15)),
                () -> assertEquals("pending = 1 (CLOCK_UPDATE)", messages.get(16)),
                () -> assertTrue(messages.get(18).matches("ns = [0-9,]+  \\(retries 0, flags 0x3"
                        + " \\(TSC_STABLE\\|GUEST_STOPPED\\), clamped 0, tsc [0-9,]+\\)"), messages.get(18)),
                () -> assertEquals("ENOENT: no vCPU 5 (the VM has 2)", messages.get(22)),
                () -> assertEquals("EINVAL: KVM_SET_CLOCK: unknown flags 0x1", messages.get(23)),
                () -> assertEquals("pvclock scale := exact; every vCPU's pvclock page takes it at its next entry",
                        messages.get(24)));
    }

    @Test
    void pauseFreezesKvmclockAndResumePutsItBack() {
        ScenarioReport report = run("""
                host h tsc-khz=3000000
                vm host=h vcpus=1
                enable-kvmclock 0
                get-clock -> before
                pause
                advance 30s
                resume
                get-clock -> after
                expect after == before
                guest 0 kvmclock -> ns _ flags
                expect (flags & PVCLOCK_GUEST_STOPPED) != 0
                """);
        assertEquals(0, report.failed(), () -> report.steps().toString());
        long before = report.steps().get(3).results().get("before");
        assertEquals(String.format("VM paused: kvmclock frozen at %,d ns (KVM_GET_CLOCK, TSC_STABLE: consistent with every"
                + " pvclock page)", before), report.steps().get(4).message());
        assertEquals(String.format("VM running: KVM_SET_CLOCK %,d, KVM_KVMCLOCK_CTRL on 1 vCPU; the 30,000,000,000 ns"
                + " paused are not in kvmclock", before), report.steps().get(6).message());
    }

    /** The parser refuses guest steps while paused; the runner refuses them too, should one get there. */
    @Test
    void theRunnerRefusesGuestStepsWhilePaused() throws ScenarioSyntaxException {
        List<Step> steps = new ArrayList<>(Scenario.parse("t.tvs", "vm vcpus=1\npause\n").steps());
        steps.add(new Step(3, 3, "guest 0 rdtsc -> t", "guest", new Statement.Guest(Statement.GuestOp.RDTSC, new Cpu(0),
                0, null, null, List.of(), List.of("t"))));
        steps.add(new Step(4, 4, "enable-kvmclock 0", "enable-kvmclock", new Statement.EnableKvmclock(new Cpu(0))));
        ScenarioReport report = new ScenarioRunner(Unicorn::get).run(new Scenario("t.tvs", steps), r -> { });
        assertEquals(List.of(Status.OK, Status.OK, Status.ERROR, Status.NOT_RUN), statuses(report));
        assertEquals("the VM is paused (since line 2)", report.steps().get(2).message());
    }

    @Test
    void kvmclockArgumentsOutOfRangeStopTheRun() {
        ScenarioReport reads = run("vm vcpus=2\nenable-kvmclock all\nlet n = 0\nguest all kvmclock-sync n -> r\n");
        assertEquals(List.of(Status.OK, Status.OK, Status.OK, Status.ERROR), statuses(reads));
        assertEquals("kvmclock-sync reads must be 1 to 10,000,000 per vCPU, got 0", reads.steps().get(3).message());
        ScenarioReport delay = run("vm vcpus=2\nenable-kvmclock all\nguest 0 torn-kvmclock 1 -1 -> ns\n");
        assertEquals("torn-kvmclock delay must be >= 0 cycles, got -1", delay.steps().get(2).message());
        ScenarioReport flags = run("vm vcpus=1\nset-clock 0 flags=-1\n");
        assertEquals("set-clock flags 0xffffffffffffffff do not fit in 32 bits", flags.steps().get(1).message());
    }

    @Test
    void aKvmclockSyncOnAllVcpusSumsAndTakesTheLargest() {
        ScenarioReport report = run("""
                vm vcpus=3 quantum=50
                enable-kvmclock all
                guest all kvmclock-sync 2_000 clamp -> regressions clamps largest retries
                expect regressions == 0
                guest 1 kvmclock-sync 2_000 raw -> regressions clamps
                expect regressions == clamps == 0
                guest 0 wallclock -> sec nsec version
                expect version == 2
                """);
        assertEquals(0, report.failed(), () -> report.steps().toString());
        assertTrue(report.steps().get(2).message().startsWith("all 3 vCPUs: regressions = 0  clamps = "),
                report.steps().get(2).message());
    }

    /** The clamp's last value is the guest's: a set-clock back in time does not reset it, as in Linux. */
    @Test
    void clampedReadsStallAfterTheClockIsSetBack() {
        ScenarioReport report = run("""
                vm vcpus=1
                enable-kvmclock 0
                set-clock 180s
                guest 0 kvmclock clamp -> before
                set-clock 0
                guest 0 kvmclock clamp -> stalled _ _ clamped
                expect stalled == before
                expect clamped == 1
                guest 0 kvmclock raw -> raw
                guest 0 kvmclock trust -> trusted
                expect raw < trusted < 1s
                """);
        assertEquals(0, report.failed(), () -> report.steps().toString());
        assertEquals(3, report.passed());
    }

    // ---- issue 10 -----------------------------------------------------------------------------------

    @Test
    void aRepeatLoopAdvancesOneSecondFiveTimes() {
        ScenarioReport report = run("""
                host h tsc-khz=3GHz
                vm host=h vcpus=1
                host-tsc -> start
                let n = 0
                repeat 5 {
                  advance 1s
                  host-tsc -> h
                  let n = n + 1
                  expect h - start == n * 3_000_000_000
                }
                expect h - start == 15_000_000_000
                """);
        List<String> texts = report.steps().stream().map(StepReport::text).toList();
        assertAll(() -> assertTrue(report.ok(), report.toString()),
                () -> assertEquals(6, report.passed()),
                () -> assertEquals(5 + 5 * 4 + 1, report.steps().size()),
                () -> assertEquals("repeat 5", texts.get(4)),
                () -> assertEquals("5 iterations", report.steps().get(4).message()),
                () -> assertEquals("[#1] advance 1s", texts.get(5)),
                () -> assertEquals("[#5] host-tsc -> h", texts.get(22)),
                () -> assertEquals(7, report.steps().get(22).line()),
                () -> assertEquals(7, report.steps().get(22).step()),
                () -> assertEquals(Map.of("h", 15_000_000_000L + report.steps().get(2).results().get("start")),
                        report.steps().get(22).results()),
                () -> assertEquals(5_000_000_000L, report.steps().getLast().hostNanos()
                        - report.steps().get(4).hostNanos()));
    }

    @Test
    void forLoopsBindTheirVariableInclusiveAndNest() {
        ScenarioReport report = run("""
                let sum = 0
                for i in 1..3 {
                  for j in i..2 {
                    let sum = sum + 10 * i + j
                  }
                }
                for k in 5..4 {
                  let sum = -1
                }
                expect sum == 11 + 12 + 22
                """);
        List<String> texts = report.steps().stream().map(StepReport::text).toList();
        assertAll(() -> assertTrue(report.ok(), texts.toString()),
                () -> assertEquals(List.of("let sum = 0", "for i in 1..3", "[i=1] for j in i..2",
                        "[i=1 j=1] let sum = sum + 10 * i + j", "[i=1 j=2] let sum = sum + 10 * i + j",
                        "[i=2] for j in i..2", "[i=2 j=2] let sum = sum + 10 * i + j", "[i=3] for j in i..2",
                        "for k in 5..4", "expect sum == 11 + 12 + 22"), texts),
                () -> assertEquals("j from 3 to 2: 0 iterations", report.steps().get(7).message()),
                () -> assertEquals("i from 1 to 3: 3 iterations", report.steps().get(1).message()));
    }

    @Test
    void loopsAreCappedAndCountsChecked() {
        ScenarioReport capped = run("let n = 0\nrepeat 200_000 {\n  let n = n + 1\n}\nexpect n == 0\n");
        StepReport last = capped.steps().get(capped.steps().size() - 2);
        assertAll(() -> assertEquals(Status.ERROR, last.status()),
                () -> assertEquals("[#99999] let n = n + 1", last.text()),
                () -> assertEquals("the run has executed 100,000 steps, the most one run may (each step of each loop"
                        + " iteration counts)", last.message()),
                () -> assertEquals(Status.NOT_RUN, capped.steps().getLast().status()),
                () -> assertEquals("t.tvs:3: step 3 '[#99999] let n = n + 1' failed: the run has executed 100,000"
                        + " steps, the most one run may (each step of each loop iteration counts); the run stops here"
                        + " (1 later step not run)", capped.stoppedAt().message()));
        ScenarioReport negative = run("let n = -2\nrepeat n {\n  let a = 1\n}\n");
        assertEquals("repeat count must be 0 or more, got -2", negative.steps().get(1).message());
        assertEquals(List.of(Status.OK, Status.ERROR), statuses(negative));
    }

    @Test
    void frequencyUnitsGiveExactKhz() {
        ScenarioReport report = run("""
                host h tsc-khz=3GHz
                host c tsc-hz=2_999_999_500Hz
                vm host=h vcpus=1 tsc-khz=2.5GHz
                get-tsc-khz 0 -> k0
                set-tsc-khz 0 1500MHz
                get-tsc-khz 0 -> k1
                expect-error EINVAL set-vm tsc-khz 3_000_000kHz   # the VM's default: before its vCPUs only
                expect k0 == 2_500_000
                expect k1 == 1_500_000
                """);
        assertAll(() -> assertTrue(report.ok(), report.toString()),
                () -> assertEquals(3, report.passed()),
                () -> assertTrue(report.steps().get(1).message().contains("(crystal 2,999,999,500 Hz)"),
                        report.steps().get(1).message()));
    }

    @Test
    void printShowsDecimalAndHexOnRequest() {
        ScenarioReport report = run("let a = 3_000_000\nprint a, a:x, -a\n");
        assertEquals("a = 3,000,000, a = 0x2dc6c0, -a = -3,000,000", report.steps().get(1).message());
    }

    @Test
    void sampleWritesExactRowsOnAThreeGigahertzHost(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        String text = """
                host h tsc-khz=3GHz
                vm host=h vcpus=1
                true-ns -> t0
                sample host-tsc, true-ns, get-msr 0 IA32_TSC, get-clock every 100ms for 350ms -> series.csv
                true-ns -> t1
                expect t1 - t0 == 300ms
                """;
        java.nio.file.Files.writeString(dir.resolve("series.csv"), "old\n");
        ScenarioReport report = new ScenarioRunner(Unicorn::get).run(Scenario.parse(dir.resolve("s.tvs").toString(),
                text), step -> { });
        List<String> rows = java.nio.file.Files.readAllLines(dir.resolve("series.csv"));
        StepReport sample = report.steps().get(3);
        assertAll(() -> assertTrue(report.ok(), report.toString()),
                () -> assertEquals(List.of("true_ns,host_tsc,true_ns,vcpu0_IA32_TSC,clock",
                        "100000054,300000162,100000054,300000162,100000053",
                        "200000054,600000162,200000054,600000162,200000053",
                        "300000054,900000162,300000054,900000162,300000053"), rows),
                () -> assertEquals("3 rows to series.csv (true_ns,host_tsc,true_ns,vcpu0_IA32_TSC,clock); first"
                        + " 100000054,300000162,100000054,300000162,100000053; last"
                        + " 300000054,900000162,300000054,900000162,300000053", sample.message()),
                () -> assertEquals(List.of(3L, 100000054L, 300000162L, 100000054L, 300000162L, 100000053L, 300000054L,
                        900000162L, 300000054L, 900000162L, 300000053L), sample.values()),
                () -> assertEquals(List.of("s.tvs".length() > 0 ? "series.csv" : ""), java.nio.file.Files.list(dir)
                        .map(p -> p.getFileName().toString()).toList(), "no temporary file left"));
        ScenarioReport tooShort = new ScenarioRunner(Unicorn::get).run(Scenario.parse(dir.resolve("s.tvs").toString(),
                "vm\nsample host-tsc every 1s for 10ms -> a.csv\n"), step -> { });
        assertEquals("sample for 10,000,000 ns is shorter than one interval (1,000,000,000 ns)",
                tooShort.steps().get(1).message());
        ScenarioReport zero = new ScenarioRunner(Unicorn::get).run(Scenario.parse(dir.resolve("s.tvs").toString(),
                "vm\nsample host-tsc every 0 for 10ms -> a.csv\n"), step -> { });
        assertEquals("sample every 0 ns: the interval must be positive", zero.steps().get(1).message());
        ScenarioReport noDirectory = new ScenarioRunner(Unicorn::get).run(Scenario.parse(dir.resolve("s.tvs")
                .toString(), "vm\nsample host-tsc every 1s for 1s -> nowhere/a.csv\n"), step -> { });
        assertEquals("sample: no directory " + dir.resolve("nowhere") + " for nowhere/a.csv",
                noDirectory.steps().get(1).message());
    }
}
