package dev.tickvm.snapshot;

import java.util.Map;
import java.util.TreeMap;

/**
 * The HEADER payload, field by field:
 * tickvm version (string), Unicorn version (string), vCPU count (u32), RAM size (u64), the four
 * times of {@link SaveTimes} (i64 each), host parameter count (u32), then each key and value
 * (strings). Strings are a u32 length and UTF-8, as {@link SectionWriter} writes them.
 */
final class HeaderCodec {
    private HeaderCodec() {
    }

    static byte[] encode(SnapshotHeader h) {
        SectionWriter w = new SectionWriter()
                .putString(h.tickvmVersion())
                .putString(h.unicornVersion())
                .putInt(h.vcpuCount())
                .putLong(h.ramSize())
                .putLong(h.times().trueNanos())
                .putLong(h.times().hostMonotonicNanos())
                .putLong(h.times().hostRealtimeNanos())
                .putLong(h.times().hostTsc())
                .putInt(h.hostParameters().size());
        for (Map.Entry<String, String> e : h.hostParameters().entrySet()) {
            w.putString(e.getKey()).putString(e.getValue());
        }
        return w.toByteArray();
    }

    /** Checks each field as it is read, so that the error names the right check. */
    static SnapshotHeader decode(SectionReader r) throws SnapshotFormatException {
        String tickvm = r.getString(Format.MAX_VERSION_BYTES);
        String unicorn = r.getString(Format.MAX_VERSION_BYTES);
        long vcpus = Integer.toUnsignedLong(r.getInt());
        String problem = Format.vcpuCountProblem(vcpus);
        if (problem != null) {
            throw r.fail(FormatCheck.VCPU_COUNT, problem);
        }
        long ramSize = r.getLong();
        problem = Format.ramSizeProblem(ramSize);
        if (problem != null) {
            throw r.fail(FormatCheck.RAM_SIZE, problem);
        }
        SaveTimes times = new SaveTimes(r.getLong(), r.getLong(), r.getLong(), r.getLong());
        int count = r.getCount(Format.MAX_HOST_PARAMETERS);
        TreeMap<String, String> parameters = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            String key = r.getString(Format.MAX_HOST_KEY_BYTES);
            if (key.isEmpty()) {
                throw r.invalid("host parameter " + i + " has an empty key");
            }
            String value = r.getString(Format.MAX_HOST_VALUE_BYTES);
            if (parameters.put(key, value) != null) {
                throw r.invalid("host parameter '" + key + "' appears twice");
            }
        }
        r.finish();
        try {
            return new SnapshotHeader(tickvm, unicorn, parameters, (int) vcpus, ramSize, times);
        } catch (IllegalArgumentException e) {
            throw r.invalid(e.getMessage()); // every rule is checked above; this keeps any future one typed
        }
    }
}
