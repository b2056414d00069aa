package dev.tickvm.trace;

import java.util.ArrayList;
import java.util.List;

/**
 * Which events a trace keeps: a comma-separated list of event names and prefixes ending in
 * {@code *} ({@code kvm_*}, {@code kvm_pvclock_update,tickvm_trap}); empty or {@code *} is all.
 */
public final class TraceFilter {
    public static final TraceFilter ALL = new TraceFilter(List.of(), "*");

    private final List<String> prefixes;
    private final List<String> names;
    private final String text;

    private TraceFilter(List<String> entries, String text) {
        this.prefixes = entries.stream().filter(e -> e.endsWith("*")).map(e -> e.substring(0, e.length() - 1)).toList();
        this.names = entries.stream().filter(e -> !e.endsWith("*")).toList();
        this.text = text;
    }

    /**
     * Parses a filter.
     *
     * @throws IllegalArgumentException for an entry that matches no event
     */
    public static TraceFilter parse(String spec) {
        if (spec == null || spec.isBlank() || spec.strip().equals("*")) {
            return ALL;
        }
        List<String> entries = new ArrayList<>();
        for (String raw : spec.split(",", -1)) {
            String e = raw.strip();
            String prefix = e.endsWith("*") ? e.substring(0, e.length() - 1) : null;
            boolean known = prefix != null ? TraceEvent.NAMES.stream().anyMatch(n -> n.startsWith(prefix))
                    : TraceEvent.NAMES.contains(e);
            if (!known) {
                throw new IllegalArgumentException("no trace event matches '" + e + "'; the events are "
                        + String.join(", ", TraceEvent.NAMES) + " (a trailing * matches a prefix)");
            }
            entries.add(e);
        }
        return new TraceFilter(entries, spec.strip());
    }

    /** Whether events named {@code name} are kept. */
    public boolean accepts(String name) {
        if (this == ALL) {
            return true;
        }
        if (names.contains(name)) {
            return true;
        }
        for (String p : prefixes) {
            if (name.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return text;
    }
}
