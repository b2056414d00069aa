package dev.tickvm.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.trace.TraceFilter;
import dev.tickvm.trace.Tracer;
import dev.tickvm.unicorn.Unicorn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance: the trace of kvm_clock_test.tvs shows each KVM_SET_CLOCK and each
 * pvclock republication with its version (docs/TRACE.md), in the library and through the CLI.
 */
class ScenarioTraceTest {
    private static final Path KVM_CLOCK_TEST = ScenarioFilesTest.SCENARIOS.resolve("kvm_clock_test.tvs");

    /** The set-clock and pvclock lines of the scenario's trace: the same on every run (virtual time). */
    static final List<String> EXPECTED = List.of(
            "    vcpu-0 [000]     0.000000114: kvm_pvclock_update: vcpu=0 version=2 tsc_timestamp=0 system_time=0 mul=2863311530 shift=-1 flags=0x1 true=0.000000114",
            "       kvm [---]     0.000000168: kvm_set_clock: clock=0 flags=0x0 realtime=0 result=0 true=0.000000168",
            "    vcpu-0 [000]     0.000000168: kvm_pvclock_update: vcpu=0 version=4 tsc_timestamp=504 system_time=0 mul=2863311530 shift=-1 flags=0x1 true=0.000000168",
            "       kvm [---]     0.000000350: kvm_set_clock: clock=180000000000 flags=0x0 realtime=0 result=180000000000 true=0.000000350",
            "    vcpu-0 [000]     0.000000350: kvm_pvclock_update: vcpu=0 version=6 tsc_timestamp=1050 system_time=180000000000 mul=2863311530 shift=-1 flags=0x1 true=0.000000350",
            "       kvm [---]     0.000000532: kvm_set_clock: clock=0 flags=0x4 realtime=1767225420000000532 result=180000000000 true=0.000000532",
            "    vcpu-0 [000]     0.000000532: kvm_pvclock_update: vcpu=0 version=8 tsc_timestamp=1596 system_time=180000000000 mul=2863311530 shift=-1 flags=0x1 true=0.000000532",
            "       kvm [---]     0.000000714: kvm_set_clock: clock=0 flags=0x4 realtime=1767225780000000714 result=0 true=0.000000714",
            "    vcpu-0 [000]     0.000000714: kvm_pvclock_update: vcpu=0 version=10 tsc_timestamp=2142 system_time=0 mul=2863311530 shift=-1 flags=0x1 true=0.000000714");

    @Test
    void kvmClockTestTracesEverySetClockAndEveryPvclockVersion() throws Exception {
        List<String> lines = new ArrayList<>();
        Tracer tracer = Tracer.lines(TraceFilter.parse("kvm_set_clock,kvm_pvclock_update"), lines::add);
        Scenario scenario = Scenario.load(KVM_CLOCK_TEST);
        ScenarioReport report = ScopedValue.where(Tracer.CURRENT, tracer)
                .call(() -> new ScenarioRunner(Unicorn::get).run(scenario, step -> { }));
        assertEquals(0, report.exitCode());
        assertEquals(EXPECTED, lines);
    }

    @Test
    void withoutATracerNothingIsTraced() throws Exception {
        // The runner outside any binding: VMs get Tracer.OFF.
        assertEquals(Tracer.OFF, Tracer.current());
        ScenarioReport report = new ScenarioRunner(Unicorn::get).run(Scenario.load(KVM_CLOCK_TEST), step -> { });
        assertEquals(0, report.exitCode());
    }

    @Test
    void theCliTracesToStderrOrAFile(@TempDir Path dir) throws Exception {
        ScenarioCli.Outcome run = ScenarioCli.run("scenario", KVM_CLOCK_TEST.toString(),
                "--trace=kvm_set_clock,kvm_pvclock_update");
        assertEquals(0, run.exitCode(), run::toString);
        assertEquals(EXPECTED, run.errLines().stream().filter(l -> l.contains(": kvm_")).toList());
        assertTrue(run.outLines().getLast().endsWith("passed, 0 failed"), run::toString);

        // --trace before the file does not take it for a filter; --trace-file alone traces everything.
        Path file = dir.resolve("t.trace");
        run = ScenarioCli.run("scenario", "--trace", KVM_CLOCK_TEST.toString(), "--trace-file", file.toString());
        assertEquals(0, run.exitCode(), run::toString);
        List<String> all = Files.readAllLines(file);
        assertEquals(EXPECTED, all.stream().filter(l -> l.contains(": kvm_set_clock: ") || l.contains(": kvm_pvclock_update: "))
                .toList());
        assertTrue(all.stream().anyMatch(l -> l.contains(": tickvm_trap: vcpu=0 insn=WRMSR ")), "traps traced");
        assertTrue(all.stream().anyMatch(l -> l.contains(": kvm_get_clock: ")), "get-clock traced");
        assertTrue(run.errLines().stream().noneMatch(l -> l.contains(": kvm_")), "nothing on stderr");

        run = ScenarioCli.run("scenario", KVM_CLOCK_TEST.toString(), "--trace=kvm_nope");
        assertEquals(2, run.exitCode(), run::toString);
        assertTrue(run.stderr().contains("no trace event matches 'kvm_nope'"), run::toString);
    }
}
