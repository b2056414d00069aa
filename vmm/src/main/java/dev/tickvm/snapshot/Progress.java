package dev.tickvm.snapshot;

/**
 * Told how far a long save or restore has got, after each block of a few MiB and once at the end
 * (done == total). Called on the saving or restoring thread; what it throws aborts the operation.
 */
@FunctionalInterface
public interface Progress {
    Progress NONE = (done, total) -> {
    };

    void update(long bytesDone, long bytesTotal);
}
