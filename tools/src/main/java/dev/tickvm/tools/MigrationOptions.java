package dev.tickvm.tools;

import dev.tickvm.migration.MigrationSetup;
import dev.tickvm.vm.HostSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options that describe a migration: the two hosts, the VM and the timing (docs/MIGRATION.md). */
final class MigrationOptions {
    @Option(names = "--from", paramLabel = "KEY=VALUE,...", defaultValue = "tsc-khz=3000000",
            description = "The source host, with a scenario host line's keys (default: ${DEFAULT-VALUE}).")
    String from;

    @Option(names = "--to", paramLabel = "KEY=VALUE,...", defaultValue = "tsc-khz=2500000",
            description = "The destination host (default: ${DEFAULT-VALUE}).")
    String to;

    @Option(names = "--downtime", paramLabel = "DURATION", defaultValue = "100ms", converter = DurationConverter.class,
            description = "True time with no VM running (default: ${DEFAULT-VALUE}).")
    long downtime;

    @Option(names = "--ntp-error", paramLabel = "DURATION", defaultValue = "20ms",
            description = "The destination's CLOCK_REALTIME error against the source's, as ntp-offset "
                    + "(default: ${DEFAULT-VALUE}; a leading - for behind).")
    String ntpError;

    @Option(names = "--stagger", paramLabel = "DURATION", defaultValue = "0", converter = DurationConverter.class,
            description = "The VMM's time between one vCPU's restore calls and the next one's (default: 0).")
    long stagger;

    @Option(names = "--vcpus", paramLabel = "N", defaultValue = "4", description = "vCPUs, 1 to 64 (default: ${DEFAULT-VALUE}).")
    int vcpus;

    @Option(names = "--guest-khz", paramLabel = "KHZ", defaultValue = "0",
            description = "The guest TSC frequency (default: the source host's).")
    long guestKhz;

    @Option(names = "--uptime", paramLabel = "DURATION", defaultValue = "2s", converter = DurationConverter.class,
            description = "The guest's age at the migration (under 1 s: inside KVM's TSC sync window; default: ${DEFAULT-VALUE}).")
    long uptime;

    @Option(names = "--after", paramLabel = "DURATION", defaultValue = "1s", converter = DurationConverter.class,
            description = "How long the guest is watched after the restore (default: ${DEFAULT-VALUE}).")
    long after;

    MigrationSetup setup() {
        Map<String, Long> source = HostSpec.parse(from);
        Map<String, Long> destination = new LinkedHashMap<>(HostSpec.parse(to));
        String e = ntpError.trim();
        boolean negative = e.startsWith("-");
        long error = new DurationConverter().convert(negative ? e.substring(1) : e);
        long sourceNtp = source.getOrDefault("ntp-offset", 0L);
        destination.putIfAbsent("ntp-offset", sourceNtp + (negative ? -error : error));
        String name = String.format("%s to %s, %s downtime, %s NTP error, %s", describe(source), describe(destination),
                Durations.format(downtime), ntpError, Words.count(vcpus, "vCPU"));
        return new MigrationSetup(name, source, destination, vcpus, guestKhz, uptime, downtime, stagger, after);
    }

    private static String describe(Map<String, Long> host) {
        long khz = host.getOrDefault("tsc-khz", 3_000_000L);
        return String.format(java.util.Locale.ROOT, "%.3f GHz%s", khz / 1e6,
                host.getOrDefault("frac-bits", 48L) == 32 ? " SVM" : "");
    }
}
