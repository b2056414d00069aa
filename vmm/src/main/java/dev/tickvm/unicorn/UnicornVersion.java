package dev.tickvm.unicorn;

/** The version uc_version() reports: (major << 24) | (minor << 16) | (patch << 8) | extra. */
public record UnicornVersion(int major, int minor, int patch) implements Comparable<UnicornVersion> {

    static UnicornVersion decode(int packed) {
        return new UnicornVersion(packed >>> 24, (packed >>> 16) & 0xff, (packed >>> 8) & 0xff);
    }

    /** Bookworm's 2.0.1 aborts the process on some invalid guest code and re-runs a block stopped from IN/OUT. */
    public boolean hasKnown201Defects() {
        return major == 2 && minor == 0;
    }

    /**
     * 2.1.0 and 2.1.1 miss some self-modifying code: after a store to a page of translated code
     * that hits no translated block, cputlb.c's notdirty_write marks the page dirty, so later
     * stores into translated code on that page take the fast path and the old translation runs
     * on (fixed in 2.1.2; StructuredGuestTest's aStoreIntoTranslatedCodeIsSeenAfterAStoreElsewhereOnItsPage).
     */
    public boolean missesStoresIntoTranslatedCode() {
        return major == 2 && minor == 1 && patch <= 1;
    }

    /**
     * From 2.1.4 RIP is exact wherever the engine stops ("consistent PC guarantee" in Unicorn's
     * ChangeLog): at the access that faulted on unmapped or protected memory, and at a store
     * after an OUT whose hook stopped the engine. Before, RIP was the start of the block there.
     */
    public boolean syncsRipOnEveryStop() {
        return compareTo(new UnicornVersion(2, 1, 4)) >= 0;
    }

    @Override
    public int compareTo(UnicornVersion o) {
        return Integer.compare(major << 16 | minor << 8 | patch, o.major << 16 | o.minor << 8 | o.patch);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }
}
