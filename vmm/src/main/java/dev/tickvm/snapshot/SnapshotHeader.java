package dev.tickvm.snapshot;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the HEADER section holds: the facts a reader needs before it looks at anything else (how
 * many vCPUs, how much RAM) and where the snapshot comes from.
 *
 * @param tickvmVersion   the saving tickvm's version, at most 128 bytes of UTF-8
 * @param unicornVersion  the Unicorn library it ran on, e.g. "2.1.1", at most 128 bytes
 * @param hostParameters  the source host, as opaque key=value pairs (name, tsc-hz, tsc-khz,
 *                        frac-bits...): at most 64, keys 1-64 bytes, values up to 512 bytes;
 *                        kept sorted by key so that equal headers make equal bytes
 * @param vcpuCount       1 to 64; the file holds one VCPU section per vCPU
 * @param ramSize         guest RAM in bytes: a multiple of 4 KiB, at most 64 GiB
 * @param times           the clocks at save
 */
public record SnapshotHeader(String tickvmVersion, String unicornVersion, SortedMap<String, String> hostParameters,
        int vcpuCount, long ramSize, SaveTimes times) {

    public SnapshotHeader {
        Format.require(Format.stringProblem("tickvm version", tickvmVersion, Format.MAX_VERSION_BYTES));
        Format.require(Format.stringProblem("Unicorn version", unicornVersion, Format.MAX_VERSION_BYTES));
        Objects.requireNonNull(hostParameters, "hostParameters");
        Format.require(Format.hostParametersProblem(hostParameters));
        hostParameters = Collections.unmodifiableSortedMap(new TreeMap<>(hostParameters));
        Format.require(Format.vcpuCountProblem(vcpuCount));
        Format.require(Format.ramSizeProblem(ramSize));
        Objects.requireNonNull(times, "times");
    }

    /** The same, from any map (sorted by key here). */
    public SnapshotHeader(String tickvmVersion, String unicornVersion, Map<String, String> hostParameters,
            int vcpuCount, long ramSize, SaveTimes times) {
        this(tickvmVersion, unicornVersion, new TreeMap<>(Objects.requireNonNull(hostParameters, "hostParameters")),
                vcpuCount, ramSize, times);
    }

    /** RAM size in 4 KiB pages. */
    public long ramPages() {
        return ramSize / Format.PAGE_SIZE;
    }
}
