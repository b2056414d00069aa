package dev.tickvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tickvm.snapshot.Forge.Frame;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * A generated corpus of damaged files, each rejected by {@link Snapshot#open} with the expected
 * check (and where it says, the section and offset), never with any other exception; and
 * {@link Snapshot#inspect} reports the same problem first without throwing.
 */
class DamagedFileTest {
    /** Don't check where. */
    private static final String ANY = "*";
    private static final int HEADER = 0x0001;
    private static final int RAM = 0x0010;
    private static final int VCPU = 0x0020;
    private static final int KVM_VM = 0x0030;
    private static final int KVM_VCPU = 0x0031;
    private static final int DEVICES = 0x0040;

    @TempDir
    Path dir;
    private byte[] valid;
    private Forge.Parsed parsed;
    private final List<Case> cases = new ArrayList<>();

    /** A damaged file and what open must say about it: the check, and where (null: the file as a whole). */
    private record Case(String name, byte[] bytes, FormatCheck check, String where, long offset) {
    }

    @BeforeEach
    void valid() throws Exception {
        valid = Forge.validFile(dir);
        parsed = Forge.parse(valid);
    }

    @TestFactory
    Stream<DynamicTest> everyDamagedFileIsRejectedWithTheExpectedCheck() {
        truncations();
        flippedBytes();
        hugeLengths();
        headerValues();
        ramRuns();
        structure();
        System.out.println("DamagedFileTest: " + cases.size() + " damaged files");
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name, () -> check(c)));
    }

    private void check(Case c) throws Exception {
        Path file = dir.resolve("damaged.tvm");
        Files.write(file, c.bytes);
        SnapshotFormatException e = null;
        try (Snapshot s = Snapshot.open(file)) {
            fail(c.name + ": accepted");
        } catch (SnapshotFormatException thrown) {
            e = thrown;
        } catch (Throwable other) {
            throw new AssertionError(c.name + ": threw " + other + " instead of SnapshotFormatException", other);
        }
        assertEquals(c.check, e.check(), e.getMessage());
        String where = c.where == null ? "" : e.where() + (e.offset() >= 0 ? " at offset " + e.offset() : "") + ": ";
        assertEquals(file + ": " + where + c.check.label() + ": " + e.problem().detail(), e.getMessage());
        if (c.where != ANY) {
            assertEquals(c.where, e.where(), e.getMessage());
        }
        if (c.offset >= 0 || c.where == null) {
            assertEquals(c.offset, e.offset(), e.getMessage());
        }
        SnapshotReport report;
        try {
            report = Snapshot.inspect(file);
        } catch (Throwable other) {
            throw new AssertionError(c.name + ": inspect threw " + other, other);
        }
        assertFalse(report.valid());
        assertEquals(e.problem(), report.problems().getFirst(), "inspect's first problem is open's");
    }

    private void add(String name, byte[] bytes, FormatCheck check, String where, long offset) {
        cases.add(new Case(name, bytes, check, where, offset));
    }

    private long offset(int frame) {
        return parsed.offsets().get(frame);
    }

    /** Every frame, END included, with its label for messages. */
    private int frameCount() {
        return parsed.offsets().size();
    }

    private long frameEnd(int frame) {
        return frame + 1 < frameCount() ? offset(frame + 1) : valid.length;
    }

    private String label(int frame) {
        if (frame == frameCount() - 1) {
            return "section END";
        }
        Frame f = parsed.frames().get(frame);
        SectionType t = SectionType.byId(f.type());
        return "section " + t.label(f.index());
    }

    private void truncations() {
        for (int size : new int[] {0, 1, 8, 12, 15}) {
            add("truncated to " + size + " bytes, inside the preamble", Arrays.copyOf(valid, size), FormatCheck.TRUNCATED,
                    "preamble", 0);
        }
        for (int i = 0; i < frameCount(); i++) {
            long at = offset(i);
            add("truncated at the start of " + label(i), Arrays.copyOf(valid, (int) at), FormatCheck.MISSING_SECTION, null, -1);
            for (long cut : new long[] {at + 1, at + 15}) {
                add("truncated at " + cut + ", inside the frame header of " + label(i), Arrays.copyOf(valid, (int) cut),
                        FormatCheck.TRUNCATED, "section", at);
            }
            long payload = frameEnd(i) - at - 20;
            if (payload > 0) {
                long cut = at + 16 + payload / 2;
                add("truncated in the middle of " + label(i), Arrays.copyOf(valid, (int) cut), FormatCheck.TRUNCATED, label(i), at);
            }
            add("truncated inside the CRC of " + label(i), Arrays.copyOf(valid, (int) frameEnd(i) - 1), FormatCheck.TRUNCATED,
                    label(i), at);
        }
    }

    private void flippedBytes() {
        for (int b = 0; b < 16; b++) {
            byte[] bytes = valid.clone();
            bytes[b] ^= (byte) 0xff;
            add("preamble byte " + b + " flipped", bytes, b < 8 ? FormatCheck.MAGIC : FormatCheck.CRC, "preamble", 0);
        }
        for (int i = 0; i < frameCount(); i++) {
            long at = offset(i);
            long end = frameEnd(i);
            long payload = end - at - 20;
            List<Long> positions = new ArrayList<>(List.of(at, at + 1, at + 2, at + 4, at + 7, end - 4, end - 1));
            if (payload > 0) {
                positions.addAll(List.of(at + 16, at + 16 + payload / 2, at + 16 + payload - 1));
            }
            for (long p : positions) {
                byte[] bytes = valid.clone();
                bytes[(int) p] ^= (byte) 0xff;
                // A flipped type or index byte changes the section's label (read before the CRC is known), not its offset.
                boolean labelChanges = p - at < 2 || p - at >= 4 && p - at < 8;
                add("byte " + (p - at) + " of " + label(i) + " flipped", bytes, FormatCheck.CRC, labelChanges ? ANY : label(i), at);
            }
        }
    }

    private void hugeLengths() {
        for (int i = 0; i < frameCount(); i++) {
            for (long length : new long[] {1L << 31, 1L << 32, Long.MAX_VALUE, Long.MIN_VALUE, -1, -(1L << 31)}) {
                byte[] bytes = valid.clone();
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong((int) offset(i) + 8, length);
                add(label(i) + " declares " + Long.toUnsignedString(length) + " payload bytes", bytes, FormatCheck.LENGTH,
                        label(i), offset(i));
            }
            // Within the type's limit but past the end of the file: the file was cut, or the length is wrong.
            byte[] bytes = valid.clone();
            long pastEnd = valid.length - offset(i) - 20 + 1;
            if (pastEnd <= (i == frameCount() - 1 ? 4096 : 1 << 20)) {
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong((int) offset(i) + 8, pastEnd);
                add(label(i) + " declares one byte more than the file has", bytes, FormatCheck.TRUNCATED, label(i), offset(i));
            }
        }
        // RAM: one byte over the most that 16 pages of RAM can need (every page stored, one run each).
        List<Frame> frames = new ArrayList<>(parsed.frames());
        int ram = parsed.position(RAM, 0);
        long limit = 8 + 16 * 16 + 16 * 4096;
        byte[] bytes = Forge.file(1, 0, frames);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong((int) offset(ram) + 8, limit + 1);
        add("RAM declares one byte over its bound", bytes, FormatCheck.LENGTH, "section RAM", offset(ram));
    }

    /** The valid file with the header payload replaced (CRCs and END right). */
    private byte[] withHeader(byte[] payload) {
        List<Frame> frames = new ArrayList<>(parsed.frames());
        frames.set(0, frames.getFirst().withPayload(payload));
        return Forge.file(1, 0, frames);
    }

    /** A header payload field by field, as HeaderCodec writes it, but with any values. */
    private static byte[] header(int vcpus, long ramSize, int paramCount, String... keysAndValues) {
        SectionWriter w = new SectionWriter().putString("0.1.0-test").putString("2.1.1").putInt(vcpus).putLong(ramSize)
                .putLong(1).putLong(2).putLong(3).putLong(4).putInt(paramCount);
        for (String s : keysAndValues) {
            w.putString(s);
        }
        return w.toByteArray();
    }

    private void headerValues() {
        long ram = Forge.RAM_PAGES * 4096;
        for (int vcpus : new int[] {0, 65, Integer.MIN_VALUE, -1}) {
            add("header vCPU count " + Integer.toUnsignedString(vcpus), withHeader(header(vcpus, ram, 0)),
                    FormatCheck.VCPU_COUNT, "section HEADER", 16);
        }
        for (long size : new long[] {0, 4097, Long.MAX_VALUE, -1, (64L << 30) + 4096, 1L << 31 | 1}) {
            add("header RAM size " + Long.toUnsignedString(size), withHeader(header(2, size, 0)), FormatCheck.RAM_SIZE,
                    "section HEADER", 16);
        }
        for (int count : new int[] {65, Integer.MIN_VALUE, -1}) {
            add("header host parameter count " + Integer.toUnsignedString(count), withHeader(header(2, ram, count)),
                    FormatCheck.COUNT, "section HEADER", 16);
        }
        add("header host parameter count 2 with one pair", withHeader(header(2, ram, 2, "name", "x")), FormatCheck.UNDERFLOW,
                "section HEADER", 16);
        add("header host parameter key twice", withHeader(header(2, ram, 2, "name", "x", "name", "y")), FormatCheck.VALUE,
                "section HEADER", 16);
        add("header host parameter key empty", withHeader(header(2, ram, 1, "", "x")), FormatCheck.VALUE, "section HEADER", 16);
        add("header host parameter value of 513 bytes", withHeader(header(2, ram, 1, "k", "v".repeat(513))),
                FormatCheck.STRING, "section HEADER", 16);
        byte[] good = header(2, ram, 0);
        for (int length : new int[] {129, 1 << 31, -1, 1 << 20}) {
            byte[] bytes = good.clone();
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(0, length);
            add("header version string length " + Integer.toUnsignedString(length), withHeader(bytes), FormatCheck.STRING,
                    "section HEADER", 16);
        }
        byte[] bytes = good.clone();
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 100);
        add("header version string longer than the payload", withHeader(Arrays.copyOf(bytes, 60)), FormatCheck.UNDERFLOW,
                "section HEADER", 16);
        bytes = good.clone();
        bytes[4] = (byte) 0xc3; // a UTF-8 lead byte followed by '.' (not a continuation byte)
        add("header version string not UTF-8", withHeader(bytes), FormatCheck.STRING, "section HEADER", 16);
        for (int n : new int[] {0, 3, 40, good.length - 1}) {
            add("header payload cut to " + n + " bytes", withHeader(Arrays.copyOf(good, n)), FormatCheck.UNDERFLOW,
                    "section HEADER", 16);
        }
        add("header with a byte after its last field", withHeader(Forge.concat(good, new byte[1])), FormatCheck.TRAILING_BYTES,
                "section HEADER", 16);
    }

    /** The valid file with the RAM payload replaced by a run table and this many pages of data. */
    private byte[] withRam(byte[] table, long dataPages) {
        List<Frame> frames = new ArrayList<>(parsed.frames());
        int ram = parsed.position(RAM, 0);
        frames.set(ram, frames.get(ram).withPayload(Forge.concat(table, new byte[(int) (dataPages * 4096)])));
        return Forge.file(1, 0, frames);
    }

    private void addRam(String name, byte[] table, long dataPages) {
        int ram = parsed.position(RAM, 0);
        add("RAM " + name, withRam(table, dataPages), FormatCheck.RAM_RUNS, "section RAM", offset(ram));
    }

    private void ramRuns() {
        // The valid table: runs (2,1), (5,1), (8,3), (15,1): 6 pages.
        for (long count : new long[] {1L << 31, Long.MAX_VALUE, -1, 17, 1L << 32 | 4}) {
            addRam("run count " + Long.toUnsignedString(count), Forge.concat(Forge.leLongs(count), Forge.leLongs(2, 1, 5, 1, 8, 3, 15, 1)), 6);
        }
        addRam("run table longer than the payload", Forge.leLongs(16), 0);
        for (long first : new long[] {16, 17, Long.MAX_VALUE, -1, 1L << 32}) {
            addRam("run starting at page " + Long.toUnsignedString(first), Forge.leLongs(2, 2, 1, first, 1), 2);
        }
        for (long pages : new long[] {Long.MAX_VALUE, -1, 2, 1L << 40}) {
            addRam("last run of " + Long.toUnsignedString(pages) + " pages from page 15", Forge.leLongs(1, 15, pages), 1);
        }
        addRam("empty run", Forge.leLongs(2, 2, 1, 5, 0), 1);
        addRam("overlapping runs", Forge.leLongs(2, 5, 4, 8, 3), 7);
        addRam("the same run twice", Forge.leLongs(2, 5, 1, 5, 1), 2);
        addRam("unsorted runs", Forge.leLongs(2, 8, 3, 5, 1), 4);
        addRam("one page of data missing", Forge.leLongs(4, 2, 1, 5, 1, 8, 3, 15, 1), 5);
        addRam("one page of data too many", Forge.leLongs(4, 2, 1, 5, 1, 8, 3, 15, 1), 7);
        addRam("page data not a whole page", Forge.concat(Forge.leLongs(1, 2, 1), new byte[100]), 0);
        addRam("payload too short for the run count", new byte[4], 0);
    }

    private byte[] withFrames(UnaryOperator<List<Frame>> change) {
        return Forge.file(1, 0, change.apply(new ArrayList<>(parsed.frames())));
    }

    private void structure() {
        add("wrong magic", Forge.concat("TICKVMSX".getBytes(StandardCharsets.US_ASCII), Arrays.copyOfRange(valid, 8, valid.length)),
                FormatCheck.MAGIC, "preamble", 0);
        add("a zip file", Forge.concat(new byte[] {'P', 'K', 3, 4}, new byte[60]), FormatCheck.MAGIC, "preamble", 0);
        add("a 3-byte text file", "abc".getBytes(StandardCharsets.US_ASCII), FormatCheck.MAGIC, "preamble", 0);
        add("newer major version 2.0", Forge.file(2, 0, parsed.frames()), FormatCheck.VERSION, "preamble", 0);
        add("newer major version 65535.65535", Forge.file(0xffff, 0xffff, parsed.frames()), FormatCheck.VERSION, "preamble", 0);
        add("major version 0", Forge.file(0, 9, parsed.frames()), FormatCheck.VERSION, "preamble", 0);
        add("no END section", Forge.raw(1, 0, parsed.frames()), FormatCheck.MISSING_SECTION, null, -1);
        add("zeros where END should be", Forge.concat(Forge.raw(1, 0, parsed.frames()), new byte[64]), FormatCheck.CRC,
                "section type 0x0000", valid.length - 28);
        add("nothing but END", Forge.file(1, 0, List.of()), FormatCheck.MISSING_SECTION, null, -1);

        int vcpu1 = parsed.position(VCPU, 1);
        long vcpu1Offset = offset(vcpu1);
        Frame vcpu1Frame = parsed.frame(VCPU, 1);
        add("VCPU 1 twice", withFrames(f -> {
            f.add(vcpu1 + 1, vcpu1Frame);
            return f;
        }), FormatCheck.DUPLICATE_SECTION, "section VCPU 1", vcpu1Offset + vcpu1Frame.size());
        add("VCPU 1 missing", withFrames(f -> {
            f.remove(vcpu1);
            return f;
        }), FormatCheck.MISSING_SECTION, null, -1);
        add("VCPU 1 as VCPU 2", withFrames(f -> {
            f.set(vcpu1, vcpu1Frame.withIndex(2));
            return f;
        }), FormatCheck.INDEX, "section VCPU 2", vcpu1Offset);
        add("VCPU 1 as VCPU 4294967295", withFrames(f -> {
            f.set(vcpu1, vcpu1Frame.withIndex(0xffffffffL));
            return f;
        }), FormatCheck.INDEX, "section VCPU 4294967295", vcpu1Offset);
        int kvmVm = parsed.position(KVM_VM, 0);
        add("KVM_VM with index 1", withFrames(f -> {
            f.set(kvmVm, f.get(kvmVm).withIndex(1));
            return f;
        }), FormatCheck.INDEX, "section KVM_VM", offset(kvmVm));
        int kvmVcpu1 = parsed.position(KVM_VCPU, 1);
        add("KVM_VCPU for vCPU 0 only", withFrames(f -> {
            f.remove(kvmVcpu1);
            return f;
        }), FormatCheck.MISSING_SECTION, null, -1);
        int devices = parsed.position(DEVICES, 0);
        add("DEVICES twice", withFrames(f -> {
            f.add(devices, f.get(devices));
            return f;
        }), FormatCheck.DUPLICATE_SECTION, "section DEVICES", offset(devices) + parsed.frames().get(devices).size());
        int ram = parsed.position(RAM, 0);
        add("RAM twice", withFrames(f -> {
            f.add(f.get(ram));
            return f;
        }), FormatCheck.DUPLICATE_SECTION, "section RAM", offset(ram) + parsed.frames().get(ram).size());
        add("RAM missing", withFrames(f -> {
            f.remove(ram);
            return f;
        }), FormatCheck.MISSING_SECTION, null, -1);
        add("HEADER twice", withFrames(f -> {
            f.add(2, f.getFirst());
            return f;
        }), FormatCheck.DUPLICATE_SECTION, "section HEADER", offset(2));
        add("HEADER missing", withFrames(f -> {
            f.removeFirst();
            return f;
        }), FormatCheck.ORDER, "section VCPU 0", 16);
        add("RAM before HEADER", withFrames(f -> {
            f.addFirst(f.remove(ram));
            return f;
        }), FormatCheck.ORDER, "section RAM", 16);
        add("HEADER second", withFrames(f -> {
            f.add(1, f.removeFirst());
            return f;
        }), FormatCheck.ORDER, "section VCPU 0", 16);
        add("unknown section type, not optional", withFrames(f -> {
            f.add(1, new Frame(0x7777, 0, 0, new byte[] {1}));
            return f;
        }), FormatCheck.UNKNOWN_SECTION, "section type 0x7777", offset(1));
        add("unknown section type with a reserved flag", withFrames(f -> {
            f.add(1, new Frame(0x7777, 3, 0, new byte[0]));
            return f;
        }), FormatCheck.FLAGS, "section type 0x7777", offset(1));
        add("reserved flag bit on VCPU 1", withFrames(f -> {
            f.set(vcpu1, vcpu1Frame.withFlags(0x8000));
            return f;
        }), FormatCheck.FLAGS, "section VCPU 1", vcpu1Offset);
        add("too many sections", withFrames(f -> {
            for (int i = 0; i < 1024; i++) {
                f.add(1, new Frame(0x7777, 1, 0, new byte[0]));
            }
            return f;
        }), FormatCheck.SECTION_COUNT, "section", 16 + parsed.frames().getFirst().size() + 1023 * 20);

        long endOffset = offset(frameCount() - 1);
        Frame end = Forge.end(parsed.frames());
        byte[] endPayload = end.payload();
        List<Frame> frames = parsed.frames();
        add("END counts one section too many", endWith(frames, new Frame(Forge.END, 0, 0, Forge.concat(
                Forge.le(frames.size() + 1), Arrays.copyOfRange(endPayload, 4, 8)))), FormatCheck.SECTION_COUNT,
                "section END", endOffset);
        add("END with a wrong digest", endWith(frames, new Frame(Forge.END, 0, 0, Forge.concat(
                Arrays.copyOf(endPayload, 4), Forge.le(12345)))), FormatCheck.DIGEST, "section END", endOffset);
        List<Frame> swapped = new ArrayList<>(frames);
        swapped.set(vcpu1 - 1, frames.get(vcpu1));
        swapped.set(vcpu1, frames.get(vcpu1 - 1));
        add("VCPU 0 and 1 swapped after END was written", endWith(swapped, end), FormatCheck.DIGEST, "section END", endOffset);
        add("END payload cut to 4 bytes", endWith(frames, end.withPayload(Arrays.copyOf(endPayload, 4))),
                FormatCheck.UNDERFLOW, "section END", endOffset);
        add("END payload with a byte more", endWith(frames, end.withPayload(Forge.concat(endPayload, new byte[1]))),
                FormatCheck.TRAILING_BYTES, "section END", endOffset);
        add("END with index 1", endWith(frames, end.withIndex(1)), FormatCheck.INDEX, "section END", endOffset);
        add("END with a reserved flag", endWith(frames, end.withFlags(2)), FormatCheck.FLAGS, "section END", endOffset);
        add("one byte after END", Forge.concat(valid, new byte[1]), FormatCheck.TRAILING_DATA, "section END", endOffset);
        add("a second END after END", Forge.concat(valid, Forge.frame(end)), FormatCheck.TRAILING_DATA, "section END", endOffset);
        add("a whole second snapshot after END", Forge.concat(valid, valid), FormatCheck.TRAILING_DATA, "section END", endOffset);
    }

    private static byte[] endWith(List<Frame> frames, Frame end) {
        List<Frame> all = new ArrayList<>(frames);
        all.add(end);
        return Forge.raw(1, 0, all);
    }

    /**
     * Seeded random damage beyond the corpus: a few bytes overwritten anywhere (length fields
     * included), a random long written at a random place, or a random cut. Whatever the check,
     * open throws a SnapshotFormatException and inspect reports it, never anything else.
     */
    @Test
    void randomDamageIsOnlyEverASnapshotFormatException() throws Exception {
        SplittableRandom random = new SplittableRandom(20261126);
        Path file = dir.resolve("random.tvm");
        for (int round = 0; round < 400; round++) {
            byte[] bytes = valid.clone();
            switch (round % 3) {
                case 0 -> {
                    for (int n = 1 + random.nextInt(4); n > 0; n--) {
                        bytes[random.nextInt(bytes.length)] ^= (byte) (1 + random.nextInt(255));
                    }
                }
                case 1 -> ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(random.nextInt(bytes.length - 8),
                        random.nextLong());
                default -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
            }
            Files.write(file, bytes);
            try (Snapshot s = Snapshot.open(file)) {
                fail("round " + round + ": accepted");
            } catch (SnapshotFormatException e) {
                SnapshotReport report = Snapshot.inspect(file);
                assertEquals(e.problem(), report.problems().getFirst(), "round " + round);
            } catch (Throwable other) {
                throw new AssertionError("round " + round + ": threw " + other, other);
            }
        }
    }

    @Test
    void theValidFileItselfPasses() throws Exception {
        Path file = dir.resolve("valid.tvm");
        Files.write(file, valid);
        try (Snapshot s = Snapshot.open(file)) {
            assertEquals(frameCount(), s.sections().size());
        }
        assertTrue(Snapshot.inspect(file).valid());
    }
}
