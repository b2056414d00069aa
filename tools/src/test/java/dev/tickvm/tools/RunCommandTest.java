package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tickvm run end to end in this JVM: the process exit code, the guest's serial output on stdout
 * and the one-line summary on stderr. Only guests that cannot abort the JVM run here; the fault
 * images run in a child JVM (HostileGuestProcessTest).
 */
class RunCommandTest {

    private static void assertSummary(Cli.Outcome o, String prefix) {
        List<String> err = o.errLines();
        assertEquals(1, err.size(), o::toString);
        assertTrue(err.getFirst().startsWith(prefix), () -> "summary starts with '" + prefix + "':\n" + o);
    }

    @Test
    void helloExitsZeroAndPrintsTheGreeting() {
        Cli.Outcome o = Cli.run("run", "--image", "hello");
        assertAll(o.toString(),
                () -> assertEquals(0, o.exitCode()),
                () -> assertEquals("Hello from a tickvm guest on vCPU 0\n", o.stdout()),
                () -> assertSummary(o, "tickvm: hello: guest exited with code 0 (1 vCPU, 0 trapped instructions, 155 blocks,"
                        + " host time 2.16 us virtual, wall "));
    }

    @Test
    void traceGoesToStderrBeforeTheSummary() {
        Cli.Outcome o = Cli.run("run", "--image", "hello", "--trace=kvm_write_tsc_offset,tickvm_*");
        List<String> err = o.errLines();
        assertAll(o.toString(),
                () -> assertEquals(0, o.exitCode()),
                () -> assertEquals("Hello from a tickvm guest on vCPU 0\n", o.stdout()),
                () -> assertEquals(List.of(
                        "    vcpu-0 [000]     0.000000000: kvm_write_tsc_offset: vcpu=0 prev=0 next=0 true=0.000000000",
                        "    vcpu-0 [000]     0.000002160: tickvm_exit: vcpu=0 reason=io_out port=0xf4 rip=0x1000ad true=0.000002160"),
                        err.subList(0, err.size() - 1)),
                () -> assertTrue(err.getLast().startsWith("tickvm: hello: guest exited with code 0")));
    }

    @Test
    void smpHelloOnEightVcpusExitsZeroWithEightHellos() {
        Cli.Outcome o = Cli.run("run", "--image", "smp-hello", "--vcpus", "8");
        List<String> lines = o.outLines();
        assertAll(o.toString(),
                () -> assertEquals(0, o.exitCode()),
                () -> assertEquals(9, lines.size()),
                () -> assertEquals(8, lines.stream().filter(l -> l.startsWith("smp-hello: hello from vCPU ")).distinct().count()),
                () -> assertEquals("smp-hello: all 8 vCPUs reported", lines.getLast()),
                () -> assertSummary(o, "tickvm: smp-hello: guest exited with code 0 (8 vCPUs, "));
    }

    @Test
    void realClockRunsTheSameGuestAndSaysSo() {
        Cli.Outcome o = Cli.run("run", "--image", "hello", "--clock", "real");
        assertEquals(0, o.exitCode(), o::toString);
        assertEquals("Hello from a tickvm guest on vCPU 0\n", o.stdout());
        assertTrue(o.stderr().contains(" real, wall "), o::toString);
    }

    @Test
    void serialOptionSendsTheGuestOutputToTheFileInstead(@TempDir Path dir) throws IOException {
        Path serial = dir.resolve("serial.txt");
        Cli.Outcome o = Cli.run("run", "--image", "hello", "--serial", serial.toString());
        assertAll(o.toString(),
                () -> assertEquals(0, o.exitCode()),
                () -> assertEquals("", o.stdout()),
                () -> assertSummary(o, "tickvm: hello: guest exited with code 0"));
        assertEquals("Hello from a tickvm guest on vCPU 0\n", Files.readString(serial, StandardCharsets.UTF_8));
    }

    /** A run refused before the guest ran leaves the --serial file as it was (issue 11.6). */
    @Test
    void aRefusedRunLeavesTheSerialFileAlone(@TempDir Path dir) throws IOException {
        Path keep = dir.resolve("keep.txt");
        Files.writeString(keep, "yesterday's output\n");
        Cli.Outcome o = Cli.run("run", "--image", "hello", "--vcpus", "65", "--serial", keep.toString());
        assertEquals(2, o.exitCode(), o::toString);
        assertEquals("yesterday's output\n", Files.readString(keep));
        Cli.Outcome missing = Cli.run("run", "--image", "no-such-image", "--serial", keep.toString());
        assertEquals(2, missing.exitCode(), missing::toString);
        assertEquals("yesterday's output\n", Files.readString(keep));
    }

    /** --serial naming the image (or --snapshot) is refused; the image is not overwritten. */
    @Test
    void serialOntoTheImageIsRefused(@TempDir Path dir) throws IOException {
        Path image = dir.resolve("exit42.bin");
        byte[] code = HexFormat.of().parseHex("b82a000000e7f4");
        Files.write(image, code);
        Cli.Outcome o = Cli.run("run", "--image", image.toString(), "--serial", image.toString());
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertEquals(List.of("tickvm: --serial " + image + " is also the command's input " + image
                        + "; writing the guest's output there would destroy it"), o.errLines()));
        assertArrayEquals(code, Files.readAllBytes(image));
    }

    /** A guest that prints nothing still leaves an empty file, not the previous run's output. */
    @Test
    void aSilentGuestEmptiesTheSerialFile(@TempDir Path dir) throws IOException {
        Path image = dir.resolve("exit42.bin");
        Files.write(image, HexFormat.of().parseHex("b82a000000e7f4"));
        Path serial = dir.resolve("serial.txt");
        Files.writeString(serial, "yesterday's output\n");
        Cli.Outcome o = Cli.run("run", "--image", image.toString(), "--serial", serial.toString());
        assertEquals(42, o.exitCode(), o::toString);
        assertEquals(0, Files.size(serial));
    }

    @Test
    void rawImageFileRunsLikeTheCatalogueImage(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("my-hello.bin");
        Files.write(file, GuestImages.require("hello").code());
        Cli.Outcome o = Cli.run("run", "--image", file.toString());
        assertAll(o.toString(),
                () -> assertEquals(0, o.exitCode()),
                () -> assertEquals("Hello from a tickvm guest on vCPU 0\n", o.stdout()),
                () -> assertSummary(o, "tickvm: my-hello.bin: guest exited with code 0"));
    }

    @Test
    void guestDebugExitCodeBecomesTheExitCode(@TempDir Path dir) throws IOException {
        // mov eax, 42; out 0xf4, eax
        Path file = dir.resolve("exit42.bin");
        Files.write(file, HexFormat.of().parseHex("b82a000000e7f4"));
        Cli.Outcome o = Cli.run("run", "--image", file.toString());
        assertEquals(42, o.exitCode(), o::toString);
        assertSummary(o, "tickvm: exit42.bin: guest exited with code 42 (1 vCPU, 0 trapped instructions, 2 blocks,");
    }

    @Test
    void guestThatHaltsEndsWithExitCodeThree(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("hlt.bin");
        Files.write(file, new byte[] {(byte) 0xf4});
        Cli.Outcome o = Cli.run("run", "--image", file.toString());
        assertEquals(3, o.exitCode(), o::toString);
        assertSummary(o, "tickvm: hlt.bin: all vCPUs halted with nothing to wake them (1 vCPU,");
    }

    @Test
    void imagesListsEveryCatalogueImageInOrder() {
        Cli.Outcome o = Cli.run("images");
        List<String> lines = o.outLines();
        List<GuestImage> catalogue = GuestImages.catalogue();
        List<String> listed = lines.subList(1, lines.size() - 1).stream().map(l -> l.split(" +")[0]).toList();
        assertAll(o.toString(),
                () -> assertEquals(0, o.exitCode()),
                () -> assertEquals("", o.stderr()),
                () -> assertTrue(lines.getFirst().matches("NAME +BYTES +VCPUS +DESCRIPTION"), lines.getFirst()),
                () -> assertEquals(catalogue.stream().map(GuestImage::name).toList(), listed),
                () -> assertTrue(listed.containsAll(List.of("hello", "rdtsc-loop", "smp-hello", "fault-invalid-opcode",
                        "fault-ud2", "fault-unmapped", "fault-loop", "fault-msr")), "the eight images of the README"),
                () -> assertTrue(lines.stream().anyMatch(l -> l.matches("smp-hello +4112 +4 +Every vCPU prints its id.*")),
                        "smp-hello's row: name, bytes, default vCPUs, description"),
                () -> assertEquals("All load and start at 0x100000.", lines.getLast()));
    }
}
