package dev.tickvm.snapshot;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Builds a section payload, little-endian, so that component owners never compute offsets:
 * {@code new SectionWriter().putLong(rip).putInt(msrs.size())...toByteArray()}. The matching
 * {@link SectionReader} reads the fields back in the same order. Strings and byte arrays are
 * length-prefixed (u32); a payload cannot grow past the 64 MiB a reader accepts.
 */
public final class SectionWriter {
    private ByteBuffer buffer = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);

    public SectionWriter putByte(int value) {
        room(1).put((byte) value);
        return this;
    }

    public SectionWriter putShort(int value) {
        room(2).putShort((short) value);
        return this;
    }

    public SectionWriter putInt(int value) {
        room(4).putInt(value);
        return this;
    }

    public SectionWriter putLong(long value) {
        room(8).putLong(value);
        return this;
    }

    /** One byte, 1 or 0. */
    public SectionWriter putBoolean(boolean value) {
        return putByte(value ? 1 : 0);
    }

    /** A u32 length, then the bytes. */
    public SectionWriter putBytes(byte[] bytes) {
        room(4L + bytes.length).putInt(bytes.length).put(bytes);
        return this;
    }

    /** A u32 length, then the UTF-8 bytes; at most 64 KiB, what {@link SectionReader#getString()} accepts. */
    public SectionWriter putString(String s) {
        Format.require(Format.stringProblem("string", s, Format.MAX_STRING_BYTES));
        return putBytes(s.getBytes(UTF_8));
    }

    /** Bytes written so far. */
    public int size() {
        return buffer.position();
    }

    /** The payload: a copy, the writer can go on. */
    public byte[] toByteArray() {
        byte[] out = new byte[buffer.position()];
        buffer.get(0, out);
        return out;
    }

    /** The buffer, grown if needed so that {@code n} more bytes fit. */
    private ByteBuffer room(long n) {
        long needed = buffer.position() + n;
        if (needed > Format.MAX_COMPONENT_PAYLOAD) {
            throw new IllegalStateException("a section payload is limited to " + Format.MAX_COMPONENT_PAYLOAD
                    + " bytes; this one would grow to " + needed);
        }
        if (needed > buffer.capacity()) {
            long capacity = Math.min(Math.max(needed, 2L * buffer.capacity()), Format.MAX_COMPONENT_PAYLOAD);
            ByteBuffer grown = ByteBuffer.allocate((int) capacity).order(ByteOrder.LITTLE_ENDIAN);
            buffer = grown.put(buffer.flip());
        }
        return buffer;
    }

    @Override
    public String toString() {
        return "SectionWriter[" + size() + " bytes]";
    }
}
