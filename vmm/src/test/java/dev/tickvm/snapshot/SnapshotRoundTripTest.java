package dev.tickvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotRoundTripTest {
    private static final long PAGE = Fixtures.PAGE;

    @TempDir
    Path dir;

    /** Saves, opens, and checks that everything comes back bit for bit. */
    private SaveResult roundTrip(SnapshotContents contents, Path file) throws Exception {
        SaveResult result = Snapshot.save(file, contents);
        assertEquals(Files.size(file), result.fileSize());
        try (Snapshot s = Snapshot.open(file); Arena arena = Arena.ofConfined()) {
            assertEquals(FormatVersion.CURRENT, s.version());
            assertEquals(contents.header(), s.header());
            for (Section expected : contents.sections()) {
                SectionReader r = s.section(expected.type(), expected.index()).orElseThrow();
                byte[] payload = new byte[r.remaining()];
                for (int i = 0; i < payload.length; i++) {
                    payload[i] = r.getByte();
                }
                assertArrayEquals(expected.payload(), payload, expected.type() + " " + expected.index());
            }
            MemorySegment ram = s.readRam(arena, Progress.NONE);
            assertEquals(0, ram.address() % PAGE);
            assertEquals(-1, ram.mismatch(contents.ram()));
            assertEquals(new RamSummary(contents.header().ramSize(), result.ramRuns(), result.ramPagesStored()), s.ram());
        }
        return result;
    }

    @Test
    void randomRamComesBackBitForBitWithEveryPageStoredInOneRun() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = Fixtures.randomRam(arena, 4 << 20, 1);
            SaveResult r = roundTrip(Fixtures.contents(4, ram, 7), dir.resolve("random.tvm"));
            assertEquals(1024, r.ramPagesStored());
            assertEquals(1, r.ramRuns());
        }
    }

    @Test
    void mostlyZeroRamStoresOnlyNonZeroPages() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            // 1024 pages: every 16th from page 8 (64), the last, pages 2 and 5 (one byte each), and
            // 9-10, which join page 8 in a run of three.
            MemorySegment ram = Fixtures.sparseRam(arena, 4 << 20, 2, 16);
            SnapshotContents contents = Fixtures.contents(2, ram, 1);
            SaveResult r = roundTrip(contents, dir.resolve("sparse.tvm"));
            assertEquals(69, r.ramPagesStored());
            // Runs: 2, 5, 8-10, the other 63 sixteenths, 1023.
            assertEquals(67, r.ramRuns());
            long header = 20 + HeaderCodec.encode(contents.header()).length;
            long ramFrame = 20 + 8 + 67 * 16 + 69 * PAGE;
            assertEquals(16 + header + sectionsBytes(2) + ramFrame + 28, r.fileSize());
        }
    }

    /** Frame bytes of the component sections {@link Fixtures#sections} makes. */
    private static long sectionsBytes(int vcpus) {
        long total = 0;
        for (Section s : Fixtures.sections(vcpus, 0)) {
            total += 20 + s.payload().length;
        }
        return total;
    }

    @Test
    void allZeroRamStoresNoPage() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(1 << 20, PAGE);
            SaveResult r = roundTrip(Fixtures.contents(1, ram, 0), dir.resolve("zero.tvm"));
            assertEquals(0, r.ramPagesStored());
            assertEquals(0, r.ramRuns());
        }
    }

    @Test
    void onlyVcpuSectionsAreMandatory() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = Fixtures.sparseRam(arena, 64 * PAGE, 3, 4);
            SnapshotContents contents = new SnapshotContents(Fixtures.header(2, ram.byteSize(), 0), ram, List.of(),
                    List.of(new Section(SectionType.VCPU, 1, new byte[0]), new Section(SectionType.VCPU, 0, new byte[] {9})));
            Path file = dir.resolve("minimal.tvm");
            roundTrip(contents, file);
            try (Snapshot s = Snapshot.open(file)) {
                assertEquals(Optional.empty(), s.section(SectionType.KVM_VM, 0));
                assertEquals(Optional.empty(), s.section(SectionType.KVM_VCPU, 0));
                // File order: HEADER, components by type id then index, RAM, END.
                assertEquals(List.of("HEADER 0", "VCPU 0", "VCPU 1", "RAM 0", "END 0"),
                        s.sections().stream().map(i -> i.name() + " " + i.index()).toList());
            }
        }
    }

    @Test
    void overridesPutTheOriginalBytesInTheFileAndDecideWhichPagesAreStored() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            long size = 16 * PAGE;
            MemorySegment ram = arena.allocate(size, PAGE);
            // Page 1: patched code (INT 0xf0 + NOP) where the guest had RDTSC (0f 31 + 90).
            ram.asSlice(PAGE + 0x10, 3).copyFrom(MemorySegment.ofArray(new byte[] {(byte) 0xcd, (byte) 0xf0, (byte) 0x90}));
            // Page 3: only a patch whose original bytes are zero: the page is stored as zero, i.e. not at all.
            ram.set(ValueLayout.JAVA_BYTE, 3 * PAGE + 7, (byte) 0xcd);
            // Pages 5-6: an override across the boundary on zero RAM makes both pages non-zero.
            List<ByteOverride> overrides = new ArrayList<>(List.of(
                    new ByteOverride(6 * PAGE - 2, new byte[] {1, 2, 3, 4}),
                    new ByteOverride(3 * PAGE + 7, new byte[] {0}),
                    new ByteOverride(PAGE + 0x10, new byte[] {0x0f, 0x31, (byte) 0x90})));
            SnapshotContents contents = new SnapshotContents(Fixtures.header(1, size, 0), ram, overrides,
                    Fixtures.sections(1, 0));
            Path file = dir.resolve("patched.tvm");
            SaveResult result = Snapshot.save(file, contents);
            assertEquals(3, result.ramPagesStored());
            assertEquals(2, result.ramRuns());

            MemorySegment expected = arena.allocate(size, PAGE);
            expected.asSlice(PAGE + 0x10, 3).copyFrom(MemorySegment.ofArray(new byte[] {0x0f, 0x31, (byte) 0x90}));
            expected.asSlice(6 * PAGE - 2, 4).copyFrom(MemorySegment.ofArray(new byte[] {1, 2, 3, 4}));
            try (Snapshot s = Snapshot.open(file)) {
                MemorySegment restored = s.readRam(arena, Progress.NONE);
                assertEquals(-1, restored.mismatch(expected));
            }
            // Guest RAM itself was only read.
            assertEquals((byte) 0xcd, ram.get(ValueLayout.JAVA_BYTE, PAGE + 0x10));
        }
    }

    @Test
    void progressCountsUpToTheFileSizeOnSaveAndTheStoredBytesOnRestore() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = Fixtures.randomRam(arena, 20 << 20, 4);
            List<long[]> saves = new ArrayList<>();
            Path file = dir.resolve("progress.tvm");
            SaveResult result = Snapshot.save(file, Fixtures.contents(1, ram, 0), (done, total) -> saves.add(new long[] {done, total}));
            assertTrue(saves.size() >= 5, "one report per 4 MiB block at least: " + saves.size());
            assertEquals(result.fileSize(), saves.getLast()[0]);
            for (int i = 0; i < saves.size(); i++) {
                assertEquals(result.fileSize(), saves.get(i)[1]);
                assertTrue(i == 0 || saves.get(i)[0] > saves.get(i - 1)[0]);
            }
            List<long[]> restores = new ArrayList<>();
            try (Snapshot s = Snapshot.open(file)) {
                s.readRam(arena, (done, total) -> restores.add(new long[] {done, total}));
            }
            assertEquals(List.of(8L << 20, 16L << 20, 20L << 20), restores.stream().map(p -> p[0]).toList());
            assertTrue(restores.stream().allMatch(p -> p[1] == 20L << 20));
        }
    }

    @Test
    void theLayoutIsTheDocumentedOne() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(4 * PAGE, PAGE);
            ram.set(ValueLayout.JAVA_BYTE, 2 * PAGE + 1, (byte) 0x77);
            Path file = dir.resolve("layout.tvm");
            Snapshot.save(file, new SnapshotContents(Fixtures.header(1, ram.byteSize(), 5), ram, List.of(),
                    List.of(new Section(SectionType.VCPU, 0, new byte[] {(byte) 0xab}))));
            Forge.Parsed parsed = Forge.parse(Files.readAllBytes(file));
            assertEquals(1, parsed.major());
            assertEquals(0, parsed.minor());
            assertEquals(List.of(0x0001, 0x0020, 0x0010), parsed.frames().stream().map(Forge.Frame::type).toList());
            byte[] vcpu = parsed.frames().get(1).payload();
            assertArrayEquals(new byte[] {(byte) 0xab}, vcpu);
            // RAM: one run (page 2, 1 page), then the page.
            byte[] ramPayload = parsed.frames().get(2).payload();
            assertEquals(8 + 16 + PAGE, ramPayload.length);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(ramPayload).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            assertEquals(1, b.getLong(0));
            assertEquals(2, b.getLong(8));
            assertEquals(1, b.getLong(16));
            assertEquals(0x77, ramPayload[24 + 1]);
            // END: the count and the digest, as the test's own framing computes them.
            assertArrayEquals(Files.readAllBytes(file), Forge.file(1, 0, parsed.frames()));
        }
    }

    @Test
    void aNewerMinorMayAddOptionalSectionsAndAppendFields() throws Exception {
        byte[] valid = Forge.validFile(dir);
        Forge.Parsed parsed = Forge.parse(valid);
        List<Forge.Frame> frames = new ArrayList<>(parsed.frames());
        // A header with one more field at its end, and a section type from the future, marked optional.
        Forge.Frame header = frames.getFirst();
        frames.set(0, header.withPayload(Forge.concat(header.payload(), new byte[] {1, 2, 3, 4})));
        frames.add(2, new Forge.Frame(0x7777, 1, 0, new byte[] {42}));
        Path file = dir.resolve("future.tvm");
        Files.write(file, Forge.file(1, 9, frames));
        try (Snapshot s = Snapshot.open(file)) {
            assertEquals(new FormatVersion(1, 9), s.version());
            assertEquals(2, s.header().vcpuCount());
            SectionInfo unknown = s.sections().get(2);
            assertEquals("type 0x7777", unknown.name());
            assertEquals(null, unknown.type());
            assertTrue(unknown.optional());
            assertEquals(CrcStatus.OK, unknown.crc());
        }
        // The same appended field in a file of this tickvm's own minor is damage.
        Files.write(file, Forge.file(1, 0, frames.subList(0, 2)));
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> Snapshot.open(file));
        assertEquals(FormatCheck.TRAILING_BYTES, e.check());
        assertEquals("section HEADER", e.where());
        assertEquals(16, e.offset());
    }

    @Test
    void savingReplacesThePreviousSnapshotAndLeavesNoTemporaryFile() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = Fixtures.sparseRam(arena, 256 * PAGE, 5, 8);
            Path file = dir.resolve("vm.tvm");
            Snapshot.save(file, Fixtures.contents(2, ram, 1));
            Snapshot.save(file, Fixtures.contents(2, ram, 2));
            try (Snapshot s = Snapshot.open(file)) {
                assertEquals(2, s.header().times().trueNanos());
                assertEquals(2, Fixtures.readComponent(s.section(SectionType.VCPU, 1).orElseThrow(), "vcpu", 1));
            }
            try (var files = Files.list(dir)) {
                assertEquals(List.of(file), files.toList());
            }
        }
    }

    @Test
    void aFailedSaveDeletesItsTemporaryFileAndLeavesTheTargetAlone() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = Fixtures.randomRam(arena, 16 << 20, 6);
            Path file = dir.resolve("vm.tvm");
            Snapshot.save(file, Fixtures.contents(1, ram, 1));
            byte[] before = Files.readAllBytes(file);
            RuntimeException stop = new RuntimeException("cancelled by the user");
            RuntimeException thrown = assertThrows(RuntimeException.class, () -> Snapshot.save(file,
                    Fixtures.contents(1, ram, 2), (done, total) -> {
                        if (done > total / 2) {
                            throw stop;
                        }
                    }));
            assertEquals(stop, thrown);
            assertArrayEquals(before, Files.readAllBytes(file));
            try (var files = Files.list(dir)) {
                assertEquals(List.of(file), files.toList());
            }
        }
    }

    @Test
    void aSaveIntoAMissingDirectoryFailsWithTheStepAndTheReason() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Path file = dir.resolve("no-such-dir").resolve("vm.tvm");
            MemorySegment ram = arena.allocate(PAGE, PAGE);
            SnapshotIoException e = assertThrows(SnapshotIoException.class,
                    () -> Snapshot.save(file, Fixtures.contents(1, ram, 0)));
            assertEquals(file + ": cannot create a temporary file in " + file.getParent() + ": no such file", e.getMessage());
            assertFalse(Files.exists(file.getParent()));
        }
    }

    @Test
    void temporaryFilesOfDeadSavesOfTheSameTargetAreRemovedAndNoOthers() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Path file = dir.resolve("vm.tvm");
            Path dead = dir.resolve(".vm.tvm.0123456789abcdef.tmp");
            Path other = dir.resolve(".other.tvm.0123456789abcdef.tmp");
            Files.write(dead, new byte[100]);
            Files.write(other, new byte[100]);
            Snapshot.save(file, Fixtures.contents(1, arena.allocate(PAGE, PAGE), 0));
            assertFalse(Files.exists(dead));
            assertTrue(Files.exists(other), "another target's temporary file is not this save's business");
        }
    }

    @Test
    void contentsRefuseWhatAReaderWouldRefuse() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(4 * PAGE, PAGE);
            SnapshotHeader h = Fixtures.header(2, ram.byteSize(), 0);
            Section vcpu0 = new Section(SectionType.VCPU, 0, new byte[0]);
            Section vcpu1 = new Section(SectionType.VCPU, 1, new byte[0]);
            assertEquals("no VCPU section for vCPU 1 (the header says 2 vCPUs)", assertThrows(IllegalArgumentException.class,
                    () -> new SnapshotContents(h, ram, List.of(), List.of(vcpu0))).getMessage());
            assertEquals("two VCPU 0 sections", assertThrows(IllegalArgumentException.class,
                    () -> new SnapshotContents(h, ram, List.of(), List.of(vcpu0, vcpu1, vcpu0))).getMessage());
            assertEquals("vCPU index 2 is out of range: the header says 2 vCPUs", assertThrows(IllegalArgumentException.class,
                    () -> new SnapshotContents(h, ram, List.of(), List.of(vcpu0, vcpu1,
                            new Section(SectionType.VCPU, 2, new byte[0])))).getMessage());
            assertEquals("no KVM_VCPU section for vCPU 1 (the header says 2 vCPUs, and KVM_VCPU sections are for every vCPU or none)",
                    assertThrows(IllegalArgumentException.class, () -> new SnapshotContents(h, ram, List.of(),
                            List.of(vcpu0, vcpu1, new Section(SectionType.KVM_VCPU, 0, new byte[0])))).getMessage());
            assertEquals("RAM segment is 16384 bytes, the header says 8192", assertThrows(IllegalArgumentException.class,
                    () -> new SnapshotContents(Fixtures.header(2, 2 * PAGE, 0), ram, List.of(), List.of(vcpu0, vcpu1))).getMessage());
            assertEquals("byte override at 0x3fff (2 bytes) ends outside RAM", assertThrows(IllegalArgumentException.class,
                    () -> new SnapshotContents(h, ram, List.of(new ByteOverride(4 * PAGE - 1, new byte[2])),
                            List.of(vcpu0, vcpu1))).getMessage());
            assertEquals("byte overrides at 0x10 and 0x11 overlap", assertThrows(IllegalArgumentException.class,
                    () -> new SnapshotContents(h, ram, List.of(new ByteOverride(0x11, new byte[1]),
                            new ByteOverride(0x10, new byte[2])), List.of(vcpu0, vcpu1))).getMessage());
            assertEquals("RAM is written by Snapshot.save itself, not given as a section", assertThrows(
                    IllegalArgumentException.class, () -> new Section(SectionType.RAM, 0, new byte[0])).getMessage());
            assertEquals("vCPU index -1 is negative", assertThrows(
                    IllegalArgumentException.class, () -> new Section(SectionType.VCPU, -1, new byte[0])).getMessage());
            assertEquals("KVM_VM is not per vCPU, so its index must be 0, got 1", assertThrows(
                    IllegalArgumentException.class, () -> new Section(SectionType.KVM_VM, 1, new byte[0])).getMessage());
        }
    }

    @Test
    void headersRefuseValuesOutsideTheLimits() {
        SaveTimes t = new SaveTimes(0, 0, 0, 0);
        assertEquals("vCPU count 65 is outside 1-64", assertThrows(IllegalArgumentException.class,
                () -> new SnapshotHeader("v", "u", java.util.Map.of(), 65, PAGE, t)).getMessage());
        assertEquals("RAM size 4097 is not a multiple of 4096 from 4096 to 68719476736 bytes (64 GiB)",
                assertThrows(IllegalArgumentException.class, () -> new SnapshotHeader("v", "u", java.util.Map.of(), 1, 4097, t))
                        .getMessage());
        assertEquals("tickvm version is 129 bytes of UTF-8, over the limit of 128", assertThrows(IllegalArgumentException.class,
                () -> new SnapshotHeader("v".repeat(129), "u", java.util.Map.of(), 1, PAGE, t)).getMessage());
        assertEquals("a host parameter key is empty", assertThrows(IllegalArgumentException.class,
                () -> new SnapshotHeader("v", "u", java.util.Map.of("", "x"), 1, PAGE, t)).getMessage());
        // Sorted by key, whatever the map given.
        SnapshotHeader h = new SnapshotHeader("v", "u", java.util.Map.of("b", "2", "a", "1"), 1, PAGE, t);
        assertEquals(List.of("a", "b"), List.copyOf(h.hostParameters().keySet()));
    }
}
