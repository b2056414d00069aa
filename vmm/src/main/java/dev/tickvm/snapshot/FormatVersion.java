package dev.tickvm.snapshot;

/**
 * The snapshot format's version, as stored in the preamble. A reader accepts any minor of its own
 * major: a newer minor only adds (optional sections, fields appended to a payload), so an older
 * reader can skip what it does not know; a change an older reader could misread takes a new major,
 * which it refuses. docs/SNAPSHOT.md states the rule in full.
 */
public record FormatVersion(int major, int minor) {
    /** What this tickvm writes. */
    public static final FormatVersion CURRENT = new FormatVersion(1, 0);

    public FormatVersion {
        if (major < 0 || major > 0xffff || minor < 0 || minor > 0xffff) {
            throw new IllegalArgumentException("format version parts are u16, got " + major + "." + minor);
        }
    }

    /** Same major, higher minor than this tickvm's: fields and sections may be there that it does not know. */
    boolean newerMinorThanCurrent() {
        return major == CURRENT.major && minor > CURRENT.minor;
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}
