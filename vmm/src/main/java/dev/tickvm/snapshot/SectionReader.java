package dev.tickvm.snapshot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads a section payload field by field, little-endian, in the order a {@link SectionWriter}
 * wrote it. Every read is bounds-checked: a payload that ends early throws a
 * {@link SnapshotFormatException} (check {@code underflow}) naming the file, the section and the
 * payload offset, never a {@link java.nio.BufferUnderflowException}. Lengths and counts are
 * checked against a caller's bound and against what is left before anything is allocated.
 *
 * <p>A component reader ends with {@link #finish()}. Component owners reject a bad value with
 * {@code throw reader.invalid("...")}, which yields the same kind of message.
 */
public final class SectionReader {
    private final ByteBuffer data;
    private final String file;
    private final String where;
    private final long offset;
    private final boolean newerMinor;

    SectionReader(ByteBuffer payload, String file, String where, long offset, boolean newerMinor) {
        this.data = payload.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.file = file;
        this.where = where;
        this.offset = offset;
        this.newerMinor = newerMinor;
    }

    /** A reader over a payload held in memory, for component owners' own tests; messages say "payload". */
    public static SectionReader of(byte[] payload) {
        return new SectionReader(ByteBuffer.wrap(payload), "payload", null, -1, false);
    }

    public byte getByte() throws SnapshotFormatException {
        return need(1).get();
    }

    public short getShort() throws SnapshotFormatException {
        return need(2).getShort();
    }

    public int getInt() throws SnapshotFormatException {
        return need(4).getInt();
    }

    public long getLong() throws SnapshotFormatException {
        return need(8).getLong();
    }

    /** One byte that must be 0 or 1. */
    public boolean getBoolean() throws SnapshotFormatException {
        int at = data.position();
        byte b = getByte();
        if (b != 0 && b != 1) {
            throw fail(FormatCheck.VALUE, "boolean at payload offset " + at + " is " + b + ", not 0 or 1");
        }
        return b == 1;
    }

    /** A u32 length and that many bytes; the length must be at most {@code maxLength}. */
    public byte[] getBytes(int maxLength) throws SnapshotFormatException {
        int length = length("byte array", maxLength, FormatCheck.LENGTH);
        byte[] bytes = new byte[length];
        data.get(bytes);
        return bytes;
    }

    /** A string of at most 64 KiB of UTF-8, as {@link SectionWriter#putString} writes it. */
    public String getString() throws SnapshotFormatException {
        return getString(Format.MAX_STRING_BYTES);
    }

    /** A u32 length and that many bytes of well-formed UTF-8; the length must be at most {@code maxBytes}. */
    public String getString(int maxBytes) throws SnapshotFormatException {
        int at = data.position();
        int length = length("string", maxBytes, FormatCheck.STRING);
        ByteBuffer bytes = data.slice(data.position(), length);
        data.position(data.position() + length);
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw fail(FormatCheck.STRING, "string at payload offset " + at + " is not valid UTF-8");
        }
    }

    /** A u32 count of elements that follow, at most {@code max}: for lists a reader then loops over. */
    public int getCount(int max) throws SnapshotFormatException {
        int at = data.position();
        long count = Integer.toUnsignedLong(getInt());
        if (count > max) {
            throw fail(FormatCheck.COUNT, "count " + count + " at payload offset " + at + " is over the limit of " + max);
        }
        return (int) count;
    }

    /** Bytes not read yet. */
    public int remaining() {
        return data.remaining();
    }

    /** Bytes read so far. */
    public int position() {
        return data.position();
    }

    /**
     * Ends reading: the payload must have been read to its end, except in a file from a newer
     * minor version, whose writer may have appended fields this tickvm does not know.
     */
    public void finish() throws SnapshotFormatException {
        if (data.hasRemaining() && !newerMinor) {
            throw fail(FormatCheck.TRAILING_BYTES, data.remaining() + " unread bytes after the last field, at payload offset "
                    + data.position() + " of " + data.limit());
        }
    }

    /** An error for a value this section's reader rejects, located like the reader's own: {@code throw reader.invalid(...)}. */
    public SnapshotFormatException invalid(String detail) {
        return fail(FormatCheck.VALUE, detail);
    }

    SnapshotFormatException fail(FormatCheck check, String detail) {
        return new SnapshotFormatException(file, new FormatProblem(where, offset, check, detail));
    }

    private ByteBuffer need(int n) throws SnapshotFormatException {
        if (data.remaining() < n) {
            throw fail(FormatCheck.UNDERFLOW, "needs " + n + " bytes at payload offset " + data.position() + ", only "
                    + data.remaining() + " left of " + data.limit());
        }
        return data;
    }

    /** A u32 length prefix, checked against {@code max} (failing with {@code check}) and what is left. */
    private int length(String what, int max, FormatCheck check) throws SnapshotFormatException {
        int at = data.position();
        long length = Integer.toUnsignedLong(getInt());
        if (length > max) {
            throw fail(check, what + " at payload offset " + at + " declares " + length + " bytes, over the limit of " + max);
        }
        if (length > data.remaining()) {
            throw fail(FormatCheck.UNDERFLOW, what + " at payload offset " + at + " declares " + length + " bytes, only "
                    + data.remaining() + " left of " + data.limit());
        }
        return (int) length;
    }
}
