package dev.tickvm.snapshot;

/**
 * What the RAM section stores, from its run table.
 *
 * @param ramSize     guest RAM in bytes (from the header)
 * @param runs        runs of consecutive stored pages
 * @param pagesStored non-zero 4 KiB pages stored; all other pages are zero
 */
public record RamSummary(long ramSize, long runs, long pagesStored) {
}
