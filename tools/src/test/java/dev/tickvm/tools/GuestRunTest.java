package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.tickvm.cpu.FaultKind;
import dev.tickvm.images.GuestImages;
import dev.tickvm.machine.VmExit;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * What the guests do, checked on GuestRun's structured result rather than on text. Only images
 * that cannot abort the JVM run here (not fault-invalid-opcode).
 */
class GuestRunTest {

    /** A run and the guest's serial output. */
    private record Ran(GuestRun.Result result, String serial) {
    }

    private static Ran run(GuestRun run) {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        GuestRun.Result result = run.run(serial::write);
        return new Ran(result, serial.toString(StandardCharsets.UTF_8));
    }

    private static GuestRun image(String name) {
        return new GuestRun(GuestImages.require(name));
    }

    @Test
    void helloPrintsTheGreetingAndExitsZero() {
        Ran r = run(image("hello"));
        assertAll(
                () -> assertEquals("Hello from a tickvm guest on vCPU 0\n", r.serial()),
                () -> assertEquals(new VmExit.Exited(0), r.result().exit()),
                () -> assertEquals(1, r.result().vcpus()),
                () -> assertEquals(0, r.result().traps()));
    }

    @Test
    void smpHelloOnEightVcpusPrintsEightDistinctIds() {
        Ran r = run(image("smp-hello").vcpus(8));
        List<String> lines = r.serial().lines().toList();
        List<String> hellos = lines.stream().filter(l -> l.startsWith("smp-hello: hello from vCPU ")).toList();
        assertAll(r.serial(),
                () -> assertEquals(new VmExit.Exited(0), r.result().exit()),
                () -> assertEquals(IntStream.range(0, 8).mapToObj(i -> "smp-hello: hello from vCPU " + i).sorted().toList(),
                        hellos.stream().sorted().toList()),
                () -> assertEquals("smp-hello: all 8 vCPUs reported", lines.getLast()),
                () -> assertEquals(9, lines.size()));
    }

    @Test
    void twoRunsOfSmpHelloAreIdentical() {
        Ran first = run(image("smp-hello").vcpus(8));
        Ran second = run(image("smp-hello").vcpus(8));
        assertAll(
                () -> assertEquals(first.serial(), second.serial()),
                () -> assertEquals(first.result().exit(), second.result().exit()),
                () -> assertEquals(first.result().blocks(), second.result().blocks()),
                () -> assertEquals(first.result().traps(), second.result().traps()),
                () -> assertEquals(first.result().hostNanos(), second.result().hostNanos()));
    }

    @Test
    void smpHelloRunsOnItsDefaultFourVcpus() {
        Ran r = run(image("smp-hello"));
        assertEquals(4, r.result().vcpus());
        assertEquals("smp-hello: all 4 vCPUs reported", r.serial().lines().toList().getLast());
    }

    @Test
    void rdtscLoopTrapsAMillionMonotonicReadings() {
        Ran r = run(image("rdtsc-loop"));
        assertAll(r.serial(),
                () -> assertEquals(new VmExit.Exited(0), r.result().exit()),
                () -> assertEquals(1_000_000, r.result().traps()),
                () -> assertEquals("rdtsc-loop: 1000000 readings, monotonic", r.serial().lines().findFirst().orElseThrow()));
    }

    @Test
    void ud2IsAnInvalidInstructionAtItsOwnAddress() {
        Ran r = run(image("fault-ud2"));
        VmExit.Faulted f = assertInstanceOf(VmExit.Faulted.class, r.result().exit());
        assertAll(
                () -> assertEquals("fault-ud2: executing ud2\n", r.serial()),
                () -> assertEquals(FaultKind.INVALID_OPCODE, f.fault().kind()),
                () -> assertEquals(0x10000e, f.fault().rip()),
                () -> assertEquals(0x0f, f.fault().bytes()[0]),
                () -> assertEquals(0x0b, f.fault().bytes()[1]),
                () -> assertEquals(4, r.result().exit().exitCode()));
    }

    @Test
    void unknownMsrIsAFaultNamingTheMsr() {
        Ran r = run(image("fault-msr"));
        VmExit.Faulted f = assertInstanceOf(VmExit.Faulted.class, r.result().exit());
        assertAll(
                () -> assertEquals(FaultKind.UNKNOWN_MSR, f.fault().kind()),
                () -> assertEquals(0x100013, f.fault().rip()),
                () -> assertEquals(13, f.fault().vector()),
                () -> assertEquals("RDMSR MSR 0x12345678: not emulated by KVM here (#GP)", f.fault().detail()),
                () -> assertEquals(4, r.result().exit().exitCode()));
    }

    @Test
    void unmappedReadIsAFaultNamingTheAddress() {
        Ran r = run(image("fault-unmapped"));
        VmExit.Faulted f = assertInstanceOf(VmExit.Faulted.class, r.result().exit());
        assertAll(
                () -> assertEquals(FaultKind.UNMAPPED_READ, f.fault().kind()),
                // Before 2.1.4 RIP is the start of the faulting block, and the detail says so.
                () -> assertEquals("8 bytes at 0x7f0000000000"
                        + (dev.tickvm.unicorn.Unicorn.get().version().syncsRipOnEveryStop() ? "" : ", in the block"),
                        f.fault().detail()),
                () -> assertEquals(4, r.result().exit().exitCode()));
    }

    @Test
    void endlessLoopIsCutOffExactlyAtTheBudget() {
        Ran r = run(image("fault-loop").budget(1_000_000));
        VmExit.BudgetExhausted b = assertInstanceOf(VmExit.BudgetExhausted.class, r.result().exit());
        assertAll(
                () -> assertEquals(1_000_000, b.blocks()),
                () -> assertEquals(1_000_000, r.result().blocks()),
                () -> assertEquals(0x10000e, b.rip()),
                () -> assertEquals(5, b.exitCode()));
    }
}
