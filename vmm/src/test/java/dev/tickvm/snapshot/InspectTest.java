package dev.tickvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectTest {
    @TempDir
    Path dir;
    private byte[] valid;
    private Forge.Parsed parsed;
    private Path file;

    @BeforeEach
    void valid() throws Exception {
        valid = Forge.validFile(dir);
        parsed = Forge.parse(valid);
        file = dir.resolve("vm.tvm");
    }

    private static List<String> rows(SnapshotReport report) {
        return report.sections().stream().map(s -> s.name() + " " + s.index() + " @" + s.offset() + " +" + s.payloadLength()
                + " " + s.crc()).toList();
    }

    private List<String> expectedRows(int damaged1, int damaged2) {
        List<String> names = List.of("HEADER 0", "VCPU 0", "VCPU 1", "KVM_VM 0", "KVM_VCPU 0", "KVM_VCPU 1", "DEVICES 0",
                "PATCHES 0", "RAM 0", "END 0");
        return java.util.stream.IntStream.range(0, names.size()).mapToObj(i -> {
            long at = parsed.offsets().get(i);
            long end = i + 1 < names.size() ? parsed.offsets().get(i + 1) : valid.length;
            return names.get(i) + " @" + at + " +" + (end - at - 20) + " "
                    + (i == damaged1 || i == damaged2 ? CrcStatus.MISMATCH : CrcStatus.OK);
        }).toList();
    }

    @Test
    void aValidFileIsReportedWholeWithNoProblem() throws Exception {
        Files.write(file, valid);
        SnapshotReport report = Snapshot.inspect(file);
        assertTrue(report.valid());
        assertEquals(file.toString(), report.file());
        assertEquals(valid.length, report.fileSize());
        assertEquals(FormatVersion.CURRENT, report.version());
        assertEquals(Fixtures.header(2, Forge.RAM_PAGES * 4096, 3), report.header());
        assertEquals(new RamSummary(Forge.RAM_PAGES * 4096, 4, 6), report.ram());
        assertEquals(expectedRows(-1, -1), rows(report));
        try (Snapshot s = Snapshot.open(file)) {
            assertEquals(s.sections(), report.sections());
        }
    }

    @Test
    void damagedSectionsAreAllReportedAndTheWalkGoesOn() throws Exception {
        byte[] bytes = valid.clone();
        int vcpu1 = 2;
        int devices = 6;
        bytes[(int) (parsed.offsets().get(vcpu1) + 20)] ^= 1;
        bytes[(int) (parsed.offsets().get(devices) + 20)] ^= 1;
        Files.write(file, bytes);
        SnapshotReport report = Snapshot.inspect(file);
        assertEquals(List.of(FormatCheck.CRC, FormatCheck.CRC), report.problems().stream().map(FormatProblem::check).toList());
        assertEquals(List.of("section VCPU 1", "section DEVICES"), report.problems().stream().map(FormatProblem::where).toList());
        assertEquals(expectedRows(vcpu1, devices), rows(report));
        assertEquals(Fixtures.header(2, Forge.RAM_PAGES * 4096, 3), report.header(), "the header is intact, so it is shown");
        assertEquals(new RamSummary(Forge.RAM_PAGES * 4096, 4, 6), report.ram());
    }

    @Test
    void aTruncatedFileShowsEverySectionBeforeTheCut() throws Exception {
        long ram = parsed.offsets().get(8);
        Files.write(file, Arrays.copyOf(valid, (int) ram + 100));
        SnapshotReport report = Snapshot.inspect(file);
        assertEquals(expectedRows(-1, -1).subList(0, 8), rows(report));
        assertEquals(List.of(new FormatProblem("section RAM", ram, FormatCheck.TRUNCATED, "the payload of "
                + (valid.length - ram - 48) + " bytes and its CRC end at offset " + (valid.length - 28)
                + ", past the end of the file at " + (ram + 100))), report.problems());
        assertNull(report.ram());
    }

    @Test
    void aDamagedHeaderLeavesTheHeaderOutAndStillChecksTheRest() throws Exception {
        byte[] bytes = valid.clone();
        bytes[40] ^= 1;
        int ram = parsed.position(0x0010, 0);
        bytes[(int) (parsed.offsets().get(ram) + 16 + 8)] = 99; // the first run now starts at page 99
        Files.write(file, bytes);
        SnapshotReport report = Snapshot.inspect(file);
        assertNull(report.header());
        assertEquals(List.of(FormatCheck.CRC, FormatCheck.CRC), report.problems().stream().map(FormatProblem::check).toList());
        assertEquals(10, report.sections().size());
    }

    @Test
    void aFileThatIsNotASnapshotSaysSo() throws Exception {
        Files.writeString(file, "#!/bin/sh\necho hello\n");
        SnapshotReport report = Snapshot.inspect(file);
        assertNull(report.version());
        assertEquals(List.of(), report.sections());
        assertEquals(List.of(new FormatProblem("preamble", 0, FormatCheck.MAGIC,
                "not a tickvm snapshot: it starts with 23 21 2f 62 69 6e 2f 73, not \"TICKVMSN\"")), report.problems());
    }

    @Test
    void aFileThatCannotBeReadIsAnIoErrorWithItsReason() {
        Path missing = dir.resolve("missing.tvm");
        assertEquals(missing + ": cannot open for reading: no such file",
                assertThrows(SnapshotIoException.class, () -> Snapshot.inspect(missing)).getMessage());
        assertEquals(missing + ": cannot open for reading: no such file",
                assertThrows(SnapshotIoException.class, () -> Snapshot.open(missing)).getMessage());
    }

    /** Issue 11.10: a directory was "cannot read at offset 0: Is a directory", /dev/null a 0-byte file. */
    @Test
    void aPathThatIsNoRegularFileSaysWhatItIs() {
        assertEquals(dir + ": not a regular file (a directory)",
                assertThrows(SnapshotIoException.class, () -> Snapshot.inspect(dir)).getMessage());
        assertEquals("/dev/null: not a regular file (a character device)",
                assertThrows(SnapshotIoException.class, () -> Snapshot.open(Path.of("/dev/null"))).getMessage());
    }

    /** Mode 000: the reason, not only the path; skipped as root, whom the mode does not stop. */
    @Test
    void anUnreadableFileSaysPermissionDenied() throws java.io.IOException {
        Path locked = Files.write(dir.resolve("locked.tvm"), new byte[16]);
        Files.setPosixFilePermissions(locked, java.util.Set.of());
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.isReadable(locked),
                "mode 000 does not stop this user (root) from reading");
        assertEquals(locked + ": cannot open for reading: permission denied",
                assertThrows(SnapshotIoException.class, () -> Snapshot.inspect(locked)).getMessage());
    }
}
