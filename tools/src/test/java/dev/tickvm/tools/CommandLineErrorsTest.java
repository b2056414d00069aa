package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad command lines: every one ends with exit code 2 (bad usage), a message on stderr that starts
 * with "tickvm:", nothing on stdout, and no stack trace unless --verbose asks for one.
 */
class CommandLineErrorsTest {

    /** The usage errors found by the VMM while setting up: exactly one line, exit 2. */
    private static void assertOneLineUsageError(Cli.Outcome o, String expectedLine) {
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertEquals(List.of(expectedLine), o.errLines()),
                () -> assertEquals("", o.stdout()));
    }

    /** Errors picocli finds while parsing: the message, then a hint at --help; exit 2. */
    private static void assertParseError(Cli.Outcome o, String expectedMessage, String command) {
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertEquals(List.of(expectedMessage, "Try '" + command + " --help'."), o.errLines()),
                () -> assertEquals("", o.stdout()));
    }

    @Test
    void unknownSubcommandIsBadUsage() {
        assertParseError(Cli.run("bogus"), "tickvm: unknown command 'bogus'", "tickvm");
    }

    /** A mistyped command: the commands it is near, by edit distance or as an abbreviation. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "rn      | run",
        "imgs    | images",
        "hepl    | help",
        "ins     | inspect",
        "restor  | restore"})
    void mistypedSubcommandGetsADidYouMean(String typed, String meant) {
        assertParseError(Cli.run(typed), "tickvm: unknown command '" + typed + "'; did you mean '" + meant + "'?",
                "tickvm");
    }

    @Test
    void extraArgumentToImagesIsBadUsage() {
        assertParseError(Cli.run("images", "extra"), "tickvm: unexpected argument 'extra'", "tickvm images");
    }

    /** picocli would report the missing --image; the typo that caused it is what to tell. */
    @Test
    void mistypedOptionIsReportedBeforeTheMissingRequiredOne() {
        assertParseError(Cli.run("run", "--imag", "hello"),
                "tickvm: unknown option '--imag'; did you mean '--image'?", "tickvm run");
    }

    @Test
    void mistypedOptionWithAValueIsNamedWithoutTheValue() {
        assertParseError(Cli.run("run", "--image", "hello", "--memry=32M"),
                "tickvm: unknown option '--memry'; did you mean '--memory'?", "tickvm run");
    }

    @Test
    void unknownOptionFarFromEveryOptionGetsNoSuggestion() {
        assertParseError(Cli.run("run", "--image", "hello", "-x"), "tickvm: unknown option '-x'", "tickvm run");
    }

    @Test
    void runWithoutImageIsBadUsage() {
        assertParseError(Cli.run("run"), "tickvm: Missing required option: '--image=NAME|PATH'", "tickvm run");
    }

    @Test
    void unknownImageNameListsTheWholeCatalogue() {
        List<String> names = GuestImages.catalogue().stream().map(GuestImage::name).toList();
        Cli.Outcome o = Cli.run("run", "--image", "nope");
        assertOneLineUsageError(o, "tickvm: no guest image named 'nope'; the catalogue has: "
                + String.join(", ", names));
        assertTrue(names.containsAll(List.of("hello", "rdtsc-loop", "smp-hello", "fault-invalid-opcode", "fault-ud2",
                "fault-unmapped", "fault-loop", "fault-msr")), names::toString);
    }

    @Test
    void nonexistentImageFileIsBadUsage(@TempDir Path dir) {
        Path missing = dir.resolve("no-such-guest.bin");
        assertOneLineUsageError(Cli.run("run", "--image", missing.toString()), "tickvm: no such image file: " + missing);
    }

    /** Issue 11.10: an overflowing --downtime said only "long overflow" (exit 1). */
    @Test
    void restoreDowntimePastTheClockIsBadUsage(@TempDir Path dir) {
        Path snapshot = dir.resolve("cw.tvm");
        Cli.Outcome save = Cli.run("run", "--image", "clockwatch", "--save-at", "1ms", "--snapshot", snapshot.toString());
        assertTrue(Files.isRegularFile(snapshot), save::toString);
        Cli.Outcome o = Cli.run("restore", snapshot.toString(), "--downtime", "9223372036854775807ns", "--for", "1ms");
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertEquals(1, o.errLines().size()),
                () -> assertTrue(o.errLines().getFirst().matches("tickvm: --downtime 9,223,372,036,854,775,807 ns would"
                        + " take true time past 2\\^63-1 ns \\(292 years\\): the snapshot was saved at [0-9,]+ ns"),
                        o.errLines()::toString));
    }

    /** Issue 11.10: a directory or /dev/null exists; "no such image file" was wrong for both. */
    @Test
    void directoryAsImageIsBadUsage(@TempDir Path dir) {
        assertOneLineUsageError(Cli.run("run", "--image", dir.toString()), "tickvm: " + dir + ": not a regular file"
                + " (a directory); --image takes a guest image file or a built-in name (./tickvm images)");
    }

    @Test
    void deviceAsImageIsBadUsage() {
        assertOneLineUsageError(Cli.run("run", "--image", "/dev/null"), "tickvm: /dev/null: not a regular file"
                + " (a character device); --image takes a guest image file or a built-in name (./tickvm images)");
    }

    /** Issue 11.10: an unreadable image said only its path (the JDK's AccessDeniedException message). */
    @Test
    void unreadableImageSaysPermissionDenied(@TempDir Path dir) throws IOException {
        Path image = Files.write(dir.resolve("locked.bin"), new byte[] {(byte) 0xf4});
        Files.setPosixFilePermissions(image, java.util.Set.of());
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.isReadable(image),
                "mode 000 does not stop this user (root) from reading");
        assertOneLineUsageError(Cli.run("run", "--image", image.toString()),
                "tickvm: " + image + ": cannot read the image: permission denied");
    }

    /** An empty image file is bad usage like every other unusable --image: one clean line, exit 2. */
    @Test
    void emptyImageFileIsBadUsageWithACleanMessage(@TempDir Path dir) throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.bin"));
        assertOneLineUsageError(Cli.run("run", "--image", empty.toString()), "tickvm: " + empty + ": empty guest image");
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "1X", "16MB", "1.5G", "99999999999G"})
    void unparsableMemorySizeIsBadUsage(String size) {
        assertParseError(Cli.run("run", "--image", "hello", "--memory", size),
                "tickvm: Invalid value for option '--memory': '" + size + "' is not a size (examples: 16M, 64MiB, 1G)",
                "tickvm run");
    }

    @ParameterizedTest
    @CsvSource({"1M, 1048576", "2049K, 2098176", "-1M, -1048576", "5G, 5368709120"})
    void memorySizeOutsideTheLimitsIsOneLineOfBadUsage(String size, long bytes) {
        assertOneLineUsageError(Cli.run("run", "--image", "hello", "--memory", size),
                "tickvm: guest memory must be a multiple of 4 KiB between 2 MiB and 4 GiB, got " + bytes + " bytes");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 65, -1})
    void vcpuCountOutsideOneTo64IsOneLineOfBadUsage(int vcpus) {
        assertOneLineUsageError(Cli.run("run", "--image", "hello", "--vcpus", Integer.toString(vcpus)),
                "tickvm: vCPUs must be 1 to 64, got " + vcpus);
    }

    @Test
    void nonNumericVcpuCountIsBadUsage() {
        assertParseError(Cli.run("run", "--image", "hello", "--vcpus", "abc"),
                "tickvm: Invalid value for option '--vcpus': 'abc' is not an int", "tickvm run");
    }

    @Test
    void unknownClockIsBadUsage() {
        assertParseError(Cli.run("run", "--image", "hello", "--clock", "bogus"),
                "tickvm: Invalid value for option '--clock': expected one of [virtual, real] (case-sensitive)"
                        + " but was 'bogus'", "tickvm run");
    }

    @Test
    void zeroBudgetIsOneLineOfBadUsage() {
        assertOneLineUsageError(Cli.run("run", "--image", "hello", "--budget", "0"),
                "tickvm: budget must be >= 1 block, got 0");
    }

    @Test
    void aQuantumBelowTwoIsOneLineOfBadUsage() {
        assertOneLineUsageError(Cli.run("run", "--image", "hello", "--quantum", "1"),
                "tickvm: quantum must be at least 2 blocks, got 1 (in a turn of 1 block a guest can make no progress)");
    }

    @Test
    void imageThatDoesNotFitBelowTheStacksIsOneLineOfBadUsage() {
        assertOneLineUsageError(Cli.run("run", "--image", "smp-hello", "--memory", "2M", "--vcpus", "64"),
                "tickvm: guest image 0x100000-0x101010 does not fit between 0x10000 and the vCPU stacks at 0x100000"
                        + " (2 MiB RAM, 64 vCPUs): give the VM more memory");
    }

    /** Checked before the guest runs since --serial opens late (issue 11.6): bad usage, one line. */
    @Test
    void serialFileInAMissingDirectoryIsBadUsage(@TempDir Path dir) {
        Path serial = dir.resolve("missing-dir").resolve("serial.txt");
        assertOneLineUsageError(Cli.run("run", "--image", "hello", "--serial", serial.toString()),
                "tickvm: --serial " + serial + ": no such directory");
    }

    @Test
    void verboseAddsTheStackTraceBeforeTheSameMessage() {
        Cli.Outcome o = Cli.run("run", "--image", "hello", "--vcpus", "0", "--verbose");
        List<String> lines = o.errLines();
        assertAll(o.toString(),
                () -> assertEquals(2, o.exitCode()),
                () -> assertEquals("java.lang.IllegalArgumentException: vCPUs must be 1 to 64, got 0", lines.getFirst()),
                () -> assertTrue(lines.stream().anyMatch(l -> l.startsWith("\tat dev.tickvm.machine.Machine$Builder.vcpus(")),
                        "stack trace names Machine.Builder.vcpus"),
                () -> assertEquals("tickvm: vCPUs must be 1 to 64, got 0", lines.getLast()));
    }

    @Test
    void noUsageErrorPrintsAStackTraceWithoutVerbose() {
        List<Cli.Outcome> outcomes = List.of(Cli.run("run", "--image", "hello", "--vcpus", "65"),
                Cli.run("run", "--image", "hello", "--memory", "1M"), Cli.run("run", "--image", "nope"));
        for (Cli.Outcome o : outcomes) {
            String err = o.stderr();
            assertFalse(err.contains("\tat ") || err.contains("Exception"), o.toString());
        }
        assertEquals("", outcomes.stream().map(Cli.Outcome::stdout).collect(Collectors.joining()));
    }
}
