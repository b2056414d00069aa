package dev.tickvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class SectionCodecTest {
    private static SnapshotFormatException fails(FormatCheck check, ThrowingRead read) {
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, read::run);
        assertEquals(check, e.check(), e.getMessage());
        return e;
    }

    @FunctionalInterface
    private interface ThrowingRead {
        void run() throws SnapshotFormatException;
    }

    @Test
    void fieldsAreLittleEndianAndLengthPrefixed() {
        byte[] payload = new SectionWriter().putByte(0x81).putShort(0x1234).putInt(0x01020304).putLong(-2)
                .putBoolean(true).putBytes(new byte[] {7, 8}).putString("é").toByteArray();
        assertEquals("81" + "3412" + "04030201" + "feffffffffffffff" + "01" + "02000000" + "0708" + "02000000" + "c3a9",
                HexFormat.of().formatHex(payload));
    }

    @Test
    void whatAWriterWritesAReaderReadsBack() throws Exception {
        SectionWriter w = new SectionWriter().putByte(-1).putShort(-2).putInt(Integer.MIN_VALUE).putLong(Long.MAX_VALUE)
                .putBoolean(false).putBytes(new byte[0]).putString("").putString("kvmclock ✓").putInt(2).putLong(10)
                .putLong(20);
        for (int i = 0; i < 1000; i++) {
            w.putLong(i); // past the writer's first buffer
        }
        SectionReader r = SectionReader.of(w.toByteArray());
        assertEquals(-1, r.getByte());
        assertEquals(-2, r.getShort());
        assertEquals(Integer.MIN_VALUE, r.getInt());
        assertEquals(Long.MAX_VALUE, r.getLong());
        assertFalse(r.getBoolean());
        assertArrayEquals(new byte[0], r.getBytes(0));
        assertEquals("", r.getString());
        assertEquals("kvmclock ✓", r.getString(12));
        int n = r.getCount(2);
        assertEquals(2, n);
        assertEquals(10, r.getLong());
        assertEquals(20, r.getLong());
        for (int i = 0; i < 1000; i++) {
            assertEquals(i, r.getLong());
        }
        assertEquals(0, r.remaining());
        assertEquals(w.size(), r.position());
        r.finish();
    }

    @Test
    void readingPastTheEndIsAnUnderflowNamingTheOffset() throws Exception {
        SectionReader r = SectionReader.of(new byte[] {1, 2, 3});
        r.getShort();
        SnapshotFormatException e = fails(FormatCheck.UNDERFLOW, r::getLong);
        assertEquals("payload: underflow: needs 8 bytes at payload offset 2, only 1 left of 3", e.getMessage());
        assertEquals(null, e.where());
        assertEquals(-1, e.offset());
        assertEquals(2, r.position(), "a failed read consumes nothing");
    }

    @Test
    void lengthsAndCountsAreCheckedBeforeAnythingIsAllocated() {
        byte[] huge = new SectionWriter().putInt(-1).toByteArray(); // 4294967295
        assertEquals("payload: length: byte array at payload offset 0 declares 4294967295 bytes, over the limit of 1000",
                fails(FormatCheck.LENGTH, () -> SectionReader.of(huge).getBytes(1000)).getMessage());
        byte[] thousand = new SectionWriter().putInt(1000).toByteArray();
        assertEquals("payload: underflow: byte array at payload offset 0 declares 1000 bytes, only 0 left of 4",
                fails(FormatCheck.UNDERFLOW, () -> SectionReader.of(thousand).getBytes(Integer.MAX_VALUE)).getMessage());
        assertEquals("payload: string: string at payload offset 0 declares 4294967295 bytes, over the limit of 65536",
                fails(FormatCheck.STRING, () -> SectionReader.of(huge).getString()).getMessage());
        assertEquals("payload: count: count 4294967295 at payload offset 0 is over the limit of 64",
                fails(FormatCheck.COUNT, () -> SectionReader.of(huge).getCount(64)).getMessage());
        byte[] two = new SectionWriter().putInt(2).putByte(1).toByteArray();
        assertEquals("payload: underflow: string at payload offset 0 declares 2 bytes, only 1 left of 5",
                fails(FormatCheck.UNDERFLOW, () -> SectionReader.of(two).getString()).getMessage());
    }

    @Test
    void malformedValuesAreTypedErrors() {
        assertEquals("payload: value: boolean at payload offset 0 is 2, not 0 or 1",
                fails(FormatCheck.VALUE, () -> SectionReader.of(new byte[] {2}).getBoolean()).getMessage());
        byte[] notUtf8 = new SectionWriter().putBytes(new byte[] {(byte) 0xff, 'a'}).toByteArray();
        assertEquals("payload: string: string at payload offset 0 is not valid UTF-8",
                fails(FormatCheck.STRING, () -> SectionReader.of(notUtf8).getString()).getMessage());
        SectionReader r = SectionReader.of(new byte[] {5, 0});
        assertEquals("payload: value: vCPU mode 5 is not a mode", r.invalid("vCPU mode 5 is not a mode").getMessage());
    }

    @Test
    void finishRefusesUnreadBytes() throws Exception {
        SectionReader r = SectionReader.of(new byte[] {1, 2, 3});
        r.getByte();
        assertEquals("payload: trailing-bytes: 2 unread bytes after the last field, at payload offset 1 of 3",
                fails(FormatCheck.TRAILING_BYTES, r::finish).getMessage());
    }

    @Test
    void writersRefuseWhatReadersWouldRefuse() {
        assertEquals("string is 65537 bytes of UTF-8, over the limit of 65536", assertThrows(IllegalArgumentException.class,
                () -> new SectionWriter().putString("x".repeat(65537))).getMessage());
        SectionWriter w = new SectionWriter().putBytes(new byte[(64 << 20) - 8]);
        assertEquals("a section payload is limited to 67108864 bytes; this one would grow to 67108868",
                assertThrows(IllegalStateException.class, () -> w.putLong(1)).getMessage());
        assertEquals((64 << 20) - 4, w.size(), "the refused long was not written");
    }
}
