package dev.tickvm.snapshot;

/** Whether a section's stored CRC32C matched its bytes, as {@link Snapshot#inspect} found. */
public enum CrcStatus {
    OK,
    MISMATCH
}
