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

    @Override
    public int compareTo(UnicornVersion o) {
        return Integer.compare(major << 16 | minor << 8 | patch, o.major << 16 | o.minor << 8 | o.patch);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }
}
