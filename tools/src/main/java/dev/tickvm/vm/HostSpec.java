package dev.tickvm.vm;

import dev.tickvm.host.CostModel;
import dev.tickvm.host.HostClock;
import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A simulated host as key=value settings: the keys of the scenario language's {@code host} line,
 * the {@code --host} option, and a snapshot header's source host (docs/SCENARIOS.md). One place
 * turns settings into a {@link SimulatedHost} and a host back into settings.
 */
public final class HostSpec {
    /** Every key, in the order they are documented. */
    public static final List<String> KEYS = List.of("tsc-khz", "tsc-hz", "crystal-ppm", "crystal-ppb", "frac-bits",
            "stable", "tsc-scaling", "tsc-at-boot", "boot-epoch", "ntp-offset", "ntp-slew-ppb", "realtime-error",
            "tai-offset", "ns-per-block", "ns-per-exit");

    private HostSpec() {
    }

    /** The cost model the settings give true time (defaults where absent). */
    public static CostModel costs(Map<String, Long> s) {
        return new CostModel(s.getOrDefault("ns-per-block", CostModel.DEFAULT.nanosPerBlock()),
                s.getOrDefault("ns-per-exit", CostModel.DEFAULT.nanosPerExit()));
    }

    /**
     * A host named {@code name} on {@code clock} with these settings; the others keep
     * {@link SimulatedHost#standard}'s values.
     *
     * @throws IllegalArgumentException for an unknown key, a bad combination or a value out of range
     */
    public static SimulatedHost build(String name, HostClock clock, Map<String, Long> s) {
        for (String key : s.keySet()) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown host setting '" + key + "' (known: " + String.join(", ", KEYS) + ")");
            }
        }
        int crystal = (s.containsKey("tsc-hz") ? 1 : 0) + (s.containsKey("crystal-ppm") ? 1 : 0)
                + (s.containsKey("crystal-ppb") ? 1 : 0);
        if (crystal > 1) {
            throw new IllegalArgumentException("give the crystal's frequency once: tsc-hz, crystal-ppm or crystal-ppb");
        }
        if (s.containsKey("ntp-offset") && s.containsKey("realtime-error")) {
            throw new IllegalArgumentException("realtime-error is another name for ntp-offset: give one of them");
        }
        SimulatedHost host = SimulatedHost.standard(name, clock);
        host = host.withTscKhz(s.getOrDefault("tsc-khz", host.tscKhz()));
        if (s.containsKey("tsc-hz")) {
            // The true frequency; the kernel's tsc_khz is what tsc-khz says, or its kHz.
            host = host.withTscHz(s.get("tsc-hz"));
            if (s.containsKey("tsc-khz")) {
                host = host.withCalibratedKhz(s.get("tsc-khz"));
            }
        } else if (s.containsKey("crystal-ppm") || s.containsKey("crystal-ppb")) {
            long ppb = s.containsKey("crystal-ppm") ? Math.multiplyExact(s.get("crystal-ppm"), 1000L) : s.get("crystal-ppb");
            host = host.withCrystalErrorPpb(ppb);
        }
        long bits = s.getOrDefault("frac-bits", (long) host.fracBits());
        return host.withFracBits((int) Math.clamp(bits, 0, 64))
                .withTscStable(s.getOrDefault("stable", 1L) != 0)
                .withTscScaling(s.getOrDefault("tsc-scaling", 1L) != 0)
                .withTscAtBoot(s.getOrDefault("tsc-at-boot", host.tscAtBoot()))
                .withBootEpoch(s.getOrDefault("boot-epoch", host.bootEpochNanos()))
                .withTaiOffset(s.getOrDefault("tai-offset", host.taiOffsetNanos()))
                .withNtp(s.getOrDefault("ntp-offset", s.getOrDefault("realtime-error", 0L)), s.getOrDefault("ntp-slew-ppb", 0L));
    }

    /** The settings that rebuild this host exactly, NTP errors as they are now, with its clock's cost model. */
    public static Map<String, Long> settings(SimulatedHost host) {
        Map<String, Long> s = new LinkedHashMap<>();
        s.put("tsc-khz", host.tscKhz());
        s.put("tsc-hz", host.tscHz());
        s.put("frac-bits", (long) host.fracBits());
        s.put("stable", host.tscStable() ? 1L : 0L);
        s.put("tsc-scaling", host.tscScaling() ? 1L : 0L);
        s.put("tsc-at-boot", host.tscAtBoot());
        s.put("boot-epoch", host.bootEpochNanos());
        s.put("ntp-offset", host.ntpOffsetNanos());
        s.put("ntp-slew-ppb", host.ntpSlewPpb());
        s.put("tai-offset", host.taiOffsetNanos());
        if (host.clock() instanceof VirtualClock v) {
            s.put("ns-per-block", v.costs().nanosPerBlock());
            s.put("ns-per-exit", v.costs().nanosPerExit());
        }
        return s;
    }

    /** As a snapshot header's host parameters: the settings as decimal strings, plus the name. */
    public static Map<String, String> toParameters(SimulatedHost host) {
        Map<String, String> p = new TreeMap<>();
        settings(host).forEach((k, v) -> p.put(k, Long.toString(v)));
        p.put("name", host.name());
        return p;
    }

    /** The settings of a snapshot header's host parameters (the name and unknown keys left out). */
    public static Map<String, Long> fromParameters(Map<String, String> parameters) {
        Map<String, Long> s = new LinkedHashMap<>();
        parameters.forEach((k, v) -> {
            if (KEYS.contains(k)) {
                try {
                    s.put(k, Long.parseLong(v));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("host parameter " + k + "=" + v + " is not a number");
                }
            }
        });
        return s;
    }

    /**
     * {@code --host} text: {@code key=value,key=value}, values integers with optional {@code _}
     * separators and, for durations, a unit (ns, us, ms, s), e.g. {@code tsc-khz=2500000,ntp-offset=20ms}.
     */
    public static Map<String, Long> parse(String text) {
        Map<String, Long> s = new LinkedHashMap<>();
        if (text.isBlank()) {
            return s;
        }
        for (String part : text.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("host setting '" + part + "' is not key=value");
            }
            String key = part.substring(0, eq).trim();
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown host setting '" + key + "' (known: " + String.join(", ", KEYS) + ")");
            }
            if (s.put(key, value(key, part.substring(eq + 1).trim())) != null) {
                throw new IllegalArgumentException("host setting '" + key + "' is given twice");
            }
        }
        return s;
    }

    private static long value(String key, String text) {
        String t = text.replace("_", "");
        switch (t) {
            case "yes", "true" -> {
                return 1;
            }
            case "no", "false" -> {
                return 0;
            }
            default -> {
            }
        }
        long unit = 1;
        for (var u : new String[][] {{"ns", "1"}, {"us", "1000"}, {"ms", "1000000"}, {"s", "1000000000"}}) {
            if (t.endsWith(u[0]) && t.length() > u[0].length() && Character.isDigit(t.charAt(t.length() - u[0].length() - 1))) {
                unit = Long.parseLong(u[1]);
                t = t.substring(0, t.length() - u[0].length());
                break;
            }
        }
        try {
            return Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("host setting " + key + "=" + text + " is not a 64-bit integer");
        }
    }
}
