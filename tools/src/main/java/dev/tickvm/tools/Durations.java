package dev.tickvm.tools;

/** Human-readable durations for summaries. */
final class Durations {
    private Durations() {
    }

    static String format(long nanos) {
        if (nanos < 10_000) {
            return nanos + " ns";
        }
        if (nanos < 10_000_000) {
            return String.format("%.1f us", nanos / 1e3);
        }
        if (nanos < 10_000_000_000L) {
            return String.format("%.1f ms", nanos / 1e6);
        }
        return String.format("%.2f s", nanos / 1e9);
    }
}
