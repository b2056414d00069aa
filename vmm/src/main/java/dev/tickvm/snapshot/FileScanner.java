package dev.tickvm.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Validates a whole snapshot file before anything is built from it, in one walk from the front:
 * the preamble (magic, CRC, version), then each section's frame (its length against the limit
 * for its type and against what is left of the file, before anything is read), its CRC32C
 * (streamed through a fixed buffer, whatever the length), its type, flags, index and place, and
 * the HEADER, RAM run table and END payloads; at END, what must be there and nothing after it.
 *
 * <p>Two modes share every check. {@link #validate} throws the first problem (for
 * {@link Snapshot#open}). {@link #inspect} records problems and goes on where the file still
 * makes sense (a bad CRC or an unknown section: the next frame is where the length says), and
 * stops only where it cannot (a length past the end, a bad preamble).
 */
final class FileScanner {
    private static final int CRC_BLOCK = 1 << 20;

    private final FileInput in;
    private final boolean collect;
    private final List<FormatProblem> problems = new ArrayList<>();
    private final List<SectionInfo> sections = new ArrayList<>();
    private final Set<SectionType.Key> present = new HashSet<>();
    private final CRC32C digest = new CRC32C();
    private final ByteBuffer frameHeader = ByteBuffer.allocate(Format.FRAME_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer crcBytes = ByteBuffer.allocate(Format.CRC_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private ByteBuffer crcBlock;
    private FormatVersion version;
    private SnapshotHeader header;
    private SectionInfo ramSection;
    private RamSummary ram;
    /** For an I/O error's message: what was being read. */
    private long position;

    /** What a scan found. {@code header}, {@code ramSection} and {@code ram} are null only when inspecting a damaged file. */
    record Layout(FormatVersion version, SnapshotHeader header, List<SectionInfo> sections, SectionInfo ramSection,
            RamSummary ram) {
    }

    private FileScanner(FileInput in, boolean collect) {
        this.in = in;
        this.collect = collect;
    }

    /** The file's layout, or the first problem. */
    static Layout validate(FileInput in) throws SnapshotFormatException, SnapshotIoException {
        FileScanner scanner = new FileScanner(in, false);
        scanner.scanWithContext();
        return new Layout(scanner.version, scanner.header, List.copyOf(scanner.sections), scanner.ramSection,
                scanner.ram);
    }

    /** Everything readable and every problem found. */
    static SnapshotReport inspect(FileInput in) throws SnapshotIoException {
        FileScanner scanner = new FileScanner(in, true);
        try {
            scanner.scanWithContext();
        } catch (SnapshotFormatException e) {
            scanner.problems.add(e.problem()); // a problem after which the walk cannot go on
        }
        return new SnapshotReport(in.file, in.size, scanner.version, scanner.header, scanner.sections, scanner.ram,
                scanner.problems);
    }

    private void scanWithContext() throws SnapshotFormatException, SnapshotIoException {
        try {
            scan();
        } catch (IOException e) {
            throw new SnapshotIoException(in.file, "cannot read at offset " + position, e);
        }
    }

    private void scan() throws IOException, SnapshotFormatException {
        readPreamble();
        long pos = Format.PREAMBLE_BYTES;
        while (true) {
            position = pos;
            if (pos == in.size) {
                throw new Location(in.file, null, -1).fail(FormatCheck.MISSING_SECTION, "no END section: the file ends at offset "
                        + pos + " after " + sections.size() + " sections (truncated?)");
            }
            if (sections.size() == Format.MAX_SECTIONS) {
                throw new Location(in.file, "section", pos).fail(FormatCheck.SECTION_COUNT,
                        "more than " + Format.MAX_SECTIONS + " sections (END included)");
            }
            SectionInfo s = readFrame(pos);
            sections.add(s);
            if (s.typeId() == SectionType.END.id()) {
                // The walk ends at END even when its CRC is bad: what follows is not sections.
                checkEnd(s);
                return;
            }
            digest.update(crcBytes.clear().putInt(0, (int) s.storedCrc()));
            if (s.crc() == CrcStatus.OK) {
                checkSection(s, sections.size() - 1);
            } else if (s.type() != null && s.index() <= Integer.MAX_VALUE) {
                // Damaged, but there: inspect should not also report it missing.
                present.add(new SectionType.Key(s.type(), (int) s.index()));
            }
            pos = s.end();
        }
    }

    private void readPreamble() throws IOException, SnapshotFormatException {
        Location at = new Location(in.file, "preamble", 0);
        ByteBuffer preamble = ByteBuffer.allocate(Format.PREAMBLE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        if (in.size < Format.PREAMBLE_BYTES) {
            preamble.limit((int) in.size);
            in.readFully(preamble, 0, at);
            byte[] start = Arrays.copyOf(preamble.array(), (int) Math.min(in.size, Format.MAGIC.length));
            if (!Arrays.equals(start, Arrays.copyOf(Format.MAGIC, start.length))) {
                throw at.fail(FormatCheck.MAGIC, notMagic(start));
            }
            throw at.fail(FormatCheck.TRUNCATED, "the file is " + in.size + " bytes, shorter than the "
                    + Format.PREAMBLE_BYTES + "-byte preamble");
        }
        in.readFully(preamble, 0, at);
        byte[] magic = Arrays.copyOf(preamble.array(), Format.MAGIC.length);
        if (!Arrays.equals(magic, Format.MAGIC)) {
            throw at.fail(FormatCheck.MAGIC, notMagic(magic));
        }
        CRC32C crc = new CRC32C();
        crc.update(preamble.array(), 0, 12);
        int stored = preamble.getInt(12);
        if (stored != (int) crc.getValue()) {
            throw at.fail(FormatCheck.CRC, crcMismatch(stored, (int) crc.getValue()));
        }
        int major = preamble.getShort(8) & 0xffff;
        int minor = preamble.getShort(10) & 0xffff;
        if (major > FormatVersion.CURRENT.major()) {
            throw at.fail(FormatCheck.VERSION, "format " + major + "." + minor + " is from a newer tickvm; this one reads format "
                    + FormatVersion.CURRENT.major() + ".x");
        }
        if (major < FormatVersion.CURRENT.major()) {
            throw at.fail(FormatCheck.VERSION, "format " + major + "." + minor + " is older than any this tickvm reads ("
                    + FormatVersion.CURRENT.major() + ".x)");
        }
        version = new FormatVersion(major, minor);
    }

    private static String notMagic(byte[] start) {
        return "not a tickvm snapshot: it starts with " + (start.length == 0 ? "nothing" : HexFormat.ofDelimiter(" ").formatHex(start))
                + ", not \"TICKVMSN\"";
    }

    /** Reads a frame and checks its length and CRC: the only checks the walk itself depends on. */
    private SectionInfo readFrame(long pos) throws IOException, SnapshotFormatException {
        Location here = new Location(in.file, "section", pos);
        if (in.size - pos < Format.MIN_FRAME_BYTES) {
            throw here.fail(FormatCheck.TRUNCATED, "only " + (in.size - pos) + " bytes left, a section takes at least "
                    + Format.MIN_FRAME_BYTES);
        }
        in.readFully(frameHeader.clear(), pos, here);
        int typeId = frameHeader.getShort(0) & 0xffff;
        int flags = frameHeader.getShort(2) & 0xffff;
        long index = Integer.toUnsignedLong(frameHeader.getInt(4));
        long length = frameHeader.getLong(8);
        SectionType type = SectionType.byId(typeId);
        String name = SectionInfo.name(typeId);
        Location at = in.location(typeId, index, pos);
        long limit = type == null ? Format.MAX_PAYLOAD
                : type == SectionType.RAM && header != null ? Format.maxRamPayload(header.ramSize()) : type.maxPayload();
        if (length < 0 || length > limit) {
            throw at.fail(FormatCheck.LENGTH, "declared payload of " + Long.toUnsignedString(length)
                    + " bytes is over the limit of " + limit + " for " + (type != null ? name : "any") + " sections");
        }
        long end = pos + Format.MIN_FRAME_BYTES + length;
        if (end > in.size) {
            throw at.fail(FormatCheck.TRUNCATED, "the payload of " + length + " bytes and its CRC end at offset " + end
                    + ", past the end of the file at " + in.size);
        }
        in.readFully(crcBytes.clear(), end - Format.CRC_BYTES, at);
        int stored = crcBytes.getInt(0);
        int computed = crc(pos, Format.FRAME_HEADER_BYTES + length, at);
        SectionInfo s = new SectionInfo(typeId, name, index, flags, pos, length, Integer.toUnsignedLong(stored),
                stored == computed ? CrcStatus.OK : CrcStatus.MISMATCH);
        if (stored != computed) {
            problem(at, FormatCheck.CRC, crcMismatch(stored, computed));
        }
        return s;
    }

    private int crc(long from, long length, Location at) throws IOException, SnapshotFormatException {
        if (crcBlock == null) {
            crcBlock = ByteBuffer.allocateDirect(CRC_BLOCK);
        }
        CRC32C crc = new CRC32C();
        for (long done = 0; done < length;) {
            position = from + done;
            crcBlock.clear().limit((int) Math.min(CRC_BLOCK, length - done));
            in.readFully(crcBlock, from + done, at);
            crc.update(crcBlock.flip());
            done += crcBlock.limit();
        }
        return (int) crc.getValue();
    }

    /** A section whose CRC held: its type, flags, index, place among the others, and payload. */
    private void checkSection(SectionInfo s, int ordinal) throws IOException, SnapshotFormatException {
        Location at = in.location(s);
        if ((s.flags() & ~Format.FLAG_OPTIONAL) != 0) {
            problem(at, FormatCheck.FLAGS, String.format("reserved flag bits are set: 0x%04x", s.flags()));
        }
        SectionType type = s.type();
        if (type == null) {
            if (!s.optional()) {
                problem(at, FormatCheck.UNKNOWN_SECTION, "this tickvm (format " + FormatVersion.CURRENT
                        + ") does not know this type, and the section is not marked optional; the file is format "
                        + version + ": written by a newer tickvm?");
            }
            return;
        }
        if (type == SectionType.HEADER) {
            if (!present.add(new SectionType.Key(type, 0))) {
                problem(at, FormatCheck.DUPLICATE_SECTION, "a second HEADER section");
                return;
            }
            if (ordinal != 0) {
                problem(at, FormatCheck.ORDER, "HEADER is section " + ordinal + "; it must be the first");
            }
            try {
                header = HeaderCodec.decode(in.payload(s, version));
            } catch (SnapshotFormatException e) {
                problem(e.problem());
            }
            return;
        }
        if (ordinal == 0) {
            problem(at, FormatCheck.ORDER, "the first section is " + type + "; HEADER must come first");
        }
        String indexProblem = type.indexProblem(s.index(), header != null ? header.vcpuCount() : 0);
        if (indexProblem != null) {
            problem(at, FormatCheck.INDEX, indexProblem);
            return;
        }
        if (!present.add(new SectionType.Key(type, (int) s.index()))) {
            problem(at, FormatCheck.DUPLICATE_SECTION, "a second " + type.label(s.index()) + " section");
            return;
        }
        if (type == SectionType.RAM) {
            checkRam(s);
        }
    }

    private void checkRam(SectionInfo s) throws IOException, SnapshotFormatException {
        long ramPages = header != null ? header.ramPages() : Format.MAX_RAM_SIZE / Format.PAGE_SIZE;
        try {
            RunTable runs = RunTable.open(in, s, ramPages, null);
            runs.checkAll();
            ramSection = s;
            ram = new RamSummary(header != null ? header.ramSize() : -1, runs.runCount(), runs.pages());
        } catch (SnapshotFormatException e) {
            problem(e.problem());
        }
    }

    /** END: nothing after it, its count and digest, and then whether anything mandatory was missing. */
    private void checkEnd(SectionInfo s) throws IOException, SnapshotFormatException {
        Location at = in.location(s);
        if (s.end() != in.size) {
            problem(at, FormatCheck.TRAILING_DATA, (in.size - s.end()) + " bytes follow the END section");
        }
        if (s.crc() == CrcStatus.OK) {
            if ((s.flags() & ~Format.FLAG_OPTIONAL) != 0) {
                problem(at, FormatCheck.FLAGS, String.format("reserved flag bits are set: 0x%04x", s.flags()));
            }
            if (s.index() != 0) {
                problem(at, FormatCheck.INDEX, SectionType.END.indexProblem(s.index(), 0));
            }
            try {
                SectionReader r = in.payload(s, version);
                long count = Integer.toUnsignedLong(r.getInt());
                int stored = r.getInt();
                r.finish();
                int before = sections.size() - 1;
                if (count != before) {
                    problem(at, FormatCheck.SECTION_COUNT, "END counts " + count + " sections before it, the file has " + before);
                } else if (stored != (int) digest.getValue()) {
                    problem(at, FormatCheck.DIGEST, "the CRCs of the sections before END digest to "
                            + Format.hex32((int) digest.getValue()) + ", END says " + Format.hex32(stored)
                            + ": sections were replaced or reordered");
                }
            } catch (SnapshotFormatException e) {
                problem(e.problem());
            }
        }
        present.add(new SectionType.Key(SectionType.END, 0));
        String missing = SectionType.firstMissing(present, header != null ? header.vcpuCount() : 0);
        if (missing != null) {
            problem(new FormatProblem(null, -1, FormatCheck.MISSING_SECTION, missing));
        }
    }

    private void problem(Location at, FormatCheck check, String detail) throws SnapshotFormatException {
        problem(new FormatProblem(at.where(), at.offset(), check, detail));
    }

    /** Validating: the first problem ends it. Inspecting: noted, and the walk goes on. */
    private void problem(FormatProblem p) throws SnapshotFormatException {
        if (!collect) {
            throw new SnapshotFormatException(in.file, p);
        }
        problems.add(p);
    }

    private static String crcMismatch(int stored, int computed) {
        return "CRC32C mismatch (stored " + Format.hex32(stored) + ", computed " + Format.hex32(computed) + ")";
    }
}
