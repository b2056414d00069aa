package dev.tickvm.snapshot;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * The wire constants and limits of the snapshot format, and the value rules that both the writer
 * (records' constructors) and the reader (which must name the failed check) apply. One place, so
 * the two cannot drift; docs/SNAPSHOT.md tabulates all of it.
 */
final class Format {
    /** 8 bytes at offset 0. */
    static final byte[] MAGIC = "TICKVMSN".getBytes(US_ASCII);
    /** Magic, major u16, minor u16, CRC32C of those 12 bytes. Frozen across majors. */
    static final int PREAMBLE_BYTES = 16;
    /** type u16, flags u16, index u32, payload length u64. */
    static final int FRAME_HEADER_BYTES = 16;
    static final int CRC_BYTES = 4;
    /** The smallest section: a frame header, no payload, a CRC. */
    static final int MIN_FRAME_BYTES = FRAME_HEADER_BYTES + CRC_BYTES;

    /** Flag bit 0: a reader that does not know the type skips the section instead of refusing the file. */
    static final int FLAG_OPTIONAL = 1;

    static final long PAGE_SIZE = 4096;
    static final int MAX_VCPUS = 64;
    static final long MAX_RAM_SIZE = 64L << 30;
    /** Sections in one file, HEADER and END included: 2 per vCPU and a handful more fit many times over. */
    static final int MAX_SECTIONS = 1024;
    /** Component payloads (VCPU, KVM_*, DEVICES, PATCHES): far above any register file or device state. */
    static final int MAX_COMPONENT_PAYLOAD = 64 << 20;
    static final int MAX_HEADER_PAYLOAD = 1 << 20;
    static final int MAX_END_PAYLOAD = 4096;
    /** Strings read by {@link SectionReader#getString()} unless the caller gives a smaller bound. */
    static final int MAX_STRING_BYTES = 64 << 10;
    static final int MAX_VERSION_BYTES = 128;
    static final int MAX_HOST_PARAMETERS = 64;
    static final int MAX_HOST_KEY_BYTES = 64;
    static final int MAX_HOST_VALUE_BYTES = 512;
    /** A RAM run table entry: first page u64, page count u64. */
    static final int RUN_BYTES = 16;
    /** The largest payload any section of a valid file can have: the RAM of a 64 GiB guest, every page stored. */
    static final long MAX_PAYLOAD = maxRamPayload(MAX_RAM_SIZE);

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Format() {
    }

    /** RAM payload when every page is stored, each in a run of its own: the bound of a RAM section's length. */
    static long maxRamPayload(long ramSize) {
        long pages = ramSize / PAGE_SIZE;
        return Long.BYTES + pages * RUN_BYTES + ramSize;
    }

    /** Why {@code n} is not a vCPU count, or null. */
    static String vcpuCountProblem(long n) {
        return n >= 1 && n <= MAX_VCPUS ? null : "vCPU count " + n + " is outside 1-" + MAX_VCPUS;
    }

    /** Why {@code size} is not a RAM size, or null. */
    static String ramSizeProblem(long size) {
        return size >= PAGE_SIZE && size <= MAX_RAM_SIZE && size % PAGE_SIZE == 0 ? null
                : "RAM size " + Long.toUnsignedString(size) + " is not a multiple of " + PAGE_SIZE + " from "
                        + PAGE_SIZE + " to " + MAX_RAM_SIZE + " bytes (64 GiB)";
    }

    /** Why a string is not acceptable where at most {@code maxBytes} UTF-8 bytes fit, or null. */
    static String stringProblem(String what, String s, int maxBytes) {
        if (s == null) {
            return what + " is missing";
        }
        int bytes = s.getBytes(UTF_8).length;
        return bytes <= maxBytes ? null : what + " is " + bytes + " bytes of UTF-8, over the limit of " + maxBytes;
    }

    /** Why these host parameters cannot be stored, or null. */
    static String hostParametersProblem(Map<String, String> parameters) {
        if (parameters.size() > MAX_HOST_PARAMETERS) {
            return parameters.size() + " host parameters, over the limit of " + MAX_HOST_PARAMETERS;
        }
        for (Map.Entry<String, String> e : parameters.entrySet()) {
            String problem = hostKeyProblem(e.getKey());
            if (problem == null) {
                problem = stringProblem("host parameter '" + e.getKey() + "'", e.getValue(), MAX_HOST_VALUE_BYTES);
            }
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    static String hostKeyProblem(String key) {
        if (key != null && key.isEmpty()) {
            return "a host parameter key is empty";
        }
        return stringProblem("host parameter key", key, MAX_HOST_KEY_BYTES);
    }

    static void require(String problem) {
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    static String hex32(int crc) {
        return String.format("0x%08x", crc);
    }
}
