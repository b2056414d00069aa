package dev.tickvm.snapshot;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads and writes the snapshot file layout independently of the code under test, as
 * docs/SNAPSHOT.md describes it, so tests can take a valid file apart and build damaged ones
 * whose CRCs are right (to reach the checks behind the CRC) or wrong.
 */
final class Forge {
    static final int END = 0x0002;

    /** One section as it is framed: type, flags, index and payload. */
    record Frame(int type, int flags, long index, byte[] payload) {
        Frame withPayload(byte[] p) {
            return new Frame(type, flags, index, p);
        }

        Frame withIndex(long i) {
            return new Frame(type, flags, i, payload);
        }

        Frame withFlags(int f) {
            return new Frame(type, f, index, payload);
        }

        int size() {
            return 20 + payload.length;
        }
    }

    /** A file taken apart: {@code frames} without END; {@code offsets} of every frame, END included. */
    record Parsed(int major, int minor, List<Frame> frames, List<Long> offsets) {
        Frame frame(int type, long index) {
            return frames.stream().filter(f -> f.type == type && f.index == index).findFirst().orElseThrow();
        }

        int position(int type, long index) {
            return frames.indexOf(frame(type, index));
        }
    }

    private Forge() {
    }

    static Parsed parse(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int major = b.getShort(8) & 0xffff;
        int minor = b.getShort(10) & 0xffff;
        List<Frame> frames = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        int pos = 16;
        while (pos < file.length) {
            offsets.add((long) pos);
            int type = b.getShort(pos) & 0xffff;
            int length = (int) b.getLong(pos + 8);
            byte[] payload = new byte[length];
            b.get(pos + 16, payload);
            if (type != END) {
                frames.add(new Frame(type, b.getShort(pos + 2) & 0xffff, Integer.toUnsignedLong(b.getInt(pos + 4)), payload));
            }
            pos += 20 + length;
        }
        return new Parsed(major, minor, frames, offsets);
    }

    static byte[] preamble(int major, int minor) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.put("TICKVMSN".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putShort((short) major).putShort((short) minor);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 12);
        return b.putInt((int) crc.getValue()).array();
    }

    /** A frame with its correct CRC. */
    static byte[] frame(Frame f) {
        return frame(f, f.payload.length);
    }

    /** A frame whose length field says {@code declaredLength}, whatever the payload; CRC over what is there. */
    static byte[] frame(Frame f, long declaredLength) {
        ByteBuffer b = ByteBuffer.allocate(f.size()).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) f.type).putShort((short) f.flags).putInt((int) f.index).putLong(declaredLength).put(f.payload);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 16 + f.payload.length);
        return b.putInt((int) crc.getValue()).array();
    }

    /** END for these frames: their count and the CRC32C of their CRCs. */
    static Frame end(List<Frame> frames) {
        CRC32C digest = new CRC32C();
        for (Frame f : frames) {
            byte[] bytes = frame(f);
            digest.update(bytes, bytes.length - 4, 4);
        }
        return new Frame(END, 0, 0, le(frames.size(), (int) digest.getValue()));
    }

    /** Preamble, the frames, and a correct END. */
    static byte[] file(int major, int minor, List<Frame> frames) {
        List<Frame> all = new ArrayList<>(frames);
        all.add(end(frames));
        return raw(major, minor, all);
    }

    /** Preamble and exactly these frames. */
    static byte[] raw(int major, int minor, List<Frame> frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(preamble(major, minor));
        frames.forEach(f -> out.writeBytes(frame(f)));
        return out.toByteArray();
    }

    static byte[] le(int... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    static byte[] leLongs(long... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** 16 pages of RAM */
    static final long RAM_PAGES = 16;

    /**
     * The file damaged copies start from: 2 vCPUs, every section type, 16 pages of RAM of which
     * pages 2, 5, 8-10 and 15 are stored (four runs).
     */
    static byte[] validFile(Path dir) throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Path file = dir.resolve("valid-" + System.nanoTime() + ".tvm");
            Snapshot.save(file, Fixtures.contents(2, Fixtures.sparseRam(arena, RAM_PAGES * 4096, 11, 1000), 3));
            byte[] bytes = Files.readAllBytes(file);
            Files.delete(file);
            return bytes;
        }
    }
}
