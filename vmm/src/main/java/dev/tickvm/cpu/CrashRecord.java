package dev.tickvm.cpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A last word for when Unicorn aborts the process (2.0.1 does on some invalid guest code): a
 * small file, mapped into memory, that always holds the loaded engine and the last guest RIP a
 * vCPU resumed at. The ./tickvm launcher passes its path in {@value #ENV} and reads it when the
 * JVM dies from a signal. Updating it is one store per resume.
 *
 * <pre>
 * 0..127   ASCII description of the engine, NUL-padded
 * 128..135 last resume RIP, little-endian u64
 * 136..139 vCPU id, little-endian i32
 * 140      1 once a RIP has been recorded
 * </pre>
 */
public final class CrashRecord {
    public static final String ENV = "TICKVM_CRASH_FILE";
    private static final int SIZE = 256;
    private static final MemorySegment RECORD = open();

    private CrashRecord() {
    }

    private static MemorySegment open() {
        String path = System.getenv(ENV);
        if (path == null || path.isBlank()) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(Path.of(path), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            return ch.map(FileChannel.MapMode.READ_WRITE, 0, SIZE, Arena.global());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The mapped record, for the native block hook, which writes the RIP and vCPU too; or null. */
    static MemorySegment segment() {
        return RECORD;
    }

    /** Records which engine is loaded. */
    public static void engine(String description) {
        if (RECORD != null) {
            byte[] text = description.getBytes(StandardCharsets.US_ASCII);
            RECORD.asSlice(0, 128).fill((byte) 0);
            MemorySegment.copy(text, 0, RECORD, JAVA_BYTE, 0, Math.min(text.length, 127));
        }
    }

    /** Records where a vCPU is about to resume. */
    static void resume(int vcpu, long rip) {
        if (RECORD != null) {
            RECORD.set(JAVA_LONG_UNALIGNED, 128, rip);
            RECORD.set(JAVA_INT_UNALIGNED, 136, vcpu);
            RECORD.set(JAVA_BYTE, 140, (byte) 1);
        }
    }
}
