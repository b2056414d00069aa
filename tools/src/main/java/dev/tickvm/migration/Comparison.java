package dev.tickvm.migration;

import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.vm.RestoreStrategy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/** Every strategy on one setup: the table, the explanations, and the JSON (docs/MIGRATION.md). */
public record Comparison(MigrationSetup setup, List<MigrationResult> results) {

    public static Comparison run(Unicorn unicorn, MigrationSetup setup, List<RestoreStrategy> strategies,
            Consumer<String> progress) {
        List<MigrationResult> results = new ArrayList<>();
        for (RestoreStrategy s : strategies) {
            progress.accept(s.name());
            results.add(MigrationExperiment.run(unicorn, setup, s));
        }
        return new Comparison(setup, results);
    }

    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%+.3f", nanos / 1e6);
    }

    /** The table: one row per strategy, steps in ms against true time (the worst vCPU), drift in ppb. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-20s %11s %11s %11s %11s %9s %7s %6s  %s%n", "strategy", "TSC ms",
                "kvmclock ms", "kvm-TSC ms", "re-read ms", "drift ppb", "regr", "master", "a Linux guest"));
        for (MigrationResult r : results) {
            if (r.failure() != null) {
                sb.append(String.format(Locale.ROOT, "%-20s %s%n", r.strategy(), "cannot restore: " + r.failure()));
                continue;
            }
            sb.append(String.format(Locale.ROOT, "%-20s %11s %11s %11s %11s %9d %7d %6s  %s%n", r.strategy(),
                    ms(r.worst(MigrationResult.Vcpu::tscStepNs)), ms(r.worst(MigrationResult.Vcpu::kvmclockStepNs)),
                    ms(r.worst(MigrationResult.Vcpu::disagreementNs)), ms(r.worst(MigrationResult.Vcpu::wallStepNs)),
                    r.kvmclockDriftPpb(), r.tscRegressions() + r.kvmclockRegressions(), r.masterClock() ? "yes" : "no",
                    String.join("; ", LinuxVerdict.of(setup, r))));
        }
        return sb.toString();
    }

    /** One explanation line per strategy. */
    public List<String> explanations() {
        return results.stream().map(r -> Explanation.of(setup, r)).toList();
    }

    /** The JSON report's fields, without the envelope; every 64-bit value is a string (docs/JSON.md). */
    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("name", setup.name());
        s.put("source", strings(setup.source()));
        s.put("destination", strings(setup.destination()));
        s.put("vcpus", setup.vcpus());
        s.put("guestKhz", Long.toString(setup.guestKhz()));
        s.put("uptimeNanos", Long.toString(setup.uptimeNanos()));
        s.put("downtimeNanos", Long.toString(setup.downtimeNanos()));
        s.put("staggerNanos", Long.toString(setup.staggerNanos()));
        m.put("setup", s);
        List<Map<String, Object>> rs = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            MigrationResult r = results.get(i);
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("strategy", r.strategy());
            x.put("failure", r.failure());
            x.put("explanation", explanations().get(i));
            x.put("linux", LinuxVerdict.of(setup, r));
            List<Map<String, Object>> vs = new ArrayList<>();
            for (MigrationResult.Vcpu v : r.vcpus()) {
                Map<String, Object> y = new LinkedHashMap<>();
                y.put("vcpu", v.vcpu());
                y.put("tscStepNs", Long.toString(v.tscStepNs()));
                y.put("kvmclockStepNs", Long.toString(v.kvmclockStepNs()));
                y.put("wallStepNs", Long.toString(v.wallStepNs()));
                y.put("kvmclockMinusTscNs", Long.toString(v.disagreementNs()));
                y.put("tscWentBack", v.tscBack());
                y.put("kvmclockWentBack", v.kvmclockBack());
                vs.add(y);
            }
            x.put("vcpus", vs);
            x.put("tscDriftPpb", Long.toString(r.tscDriftPpb()));
            x.put("kvmclockDriftPpb", Long.toString(r.kvmclockDriftPpb()));
            x.put("tscRegressions", Long.toString(r.tscRegressions()));
            x.put("kvmclockRegressions", Long.toString(r.kvmclockRegressions()));
            x.put("masterClock", r.masterClock());
            x.put("guestStopped", r.guestStopped());
            x.put("vmmKvmclockStepNs", Long.toString(r.vmmKvmclockStepNs()));
            rs.add(x);
        }
        m.put("results", rs);
        return m;
    }

    private static Map<String, String> strings(Map<String, Long> settings) {
        Map<String, String> out = new LinkedHashMap<>();
        settings.forEach((k, v) -> out.put(k, Long.toString(v)));
        return out;
    }
}
