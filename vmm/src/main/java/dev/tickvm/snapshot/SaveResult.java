package dev.tickvm.snapshot;

/**
 * What {@link Snapshot#save} wrote.
 *
 * @param fileSize        bytes in the file
 * @param ramPagesStored  non-zero 4 KiB pages stored (the others are implied zero)
 * @param ramRuns         runs of consecutive stored pages
 * @param directorySynced false when the file system refused to sync the directory after the
 *                        rename: the new file is in place, but a power loss right now might
 *                        bring back the previous one (never a mix of both)
 */
public record SaveResult(long fileSize, long ramPagesStored, long ramRuns, boolean directorySynced) {
}
