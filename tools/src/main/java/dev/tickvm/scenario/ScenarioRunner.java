package dev.tickvm.scenario;

import dev.tickvm.cpu.BootLayout;
import dev.tickvm.host.CostModel;
import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.kvm.KvmException;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.kvm.TscAttribute;
import dev.tickvm.lab.Lab;
import dev.tickvm.lab.ProbeException;
import dev.tickvm.machine.Machine;
import dev.tickvm.scenario.ScenarioReport.Status;
import dev.tickvm.scenario.ScenarioReport.StepReport;
import dev.tickvm.scenario.ScenarioReport.Stop;
import dev.tickvm.scenario.Statement.Cpu;
import dev.tickvm.scenario.Statement.Step;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.unicorn.UnicornException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Runs a parsed scenario, step by step, on simulated hosts and one {@link Lab} VM. An expectation
 * that does not hold is reported and the run goes on; a runtime error (a KVM call failing, a
 * missing vCPU, a guest fault, an arithmetic overflow) stops the run at that step, and nothing
 * after it runs.
 */
public final class ScenarioRunner {
    private final Supplier<Unicorn> unicorn;

    /** {@code unicorn} is asked for the engine only when the scenario creates its VM. */
    public ScenarioRunner(Supplier<Unicorn> unicorn) {
        this.unicorn = unicorn;
    }

    /** Runs every step; {@code progress} sees each step's report as soon as it is done. */
    public ScenarioReport run(Scenario scenario, Consumer<StepReport> progress) {
        long wallStart = System.nanoTime();
        List<StepReport> reports = new ArrayList<>();
        int passed = 0;
        int failed = 0;
        Stop stop = null;
        try (Run run = new Run()) {
            for (Step step : scenario.steps()) {
                if (stop != null) {
                    reports.add(new StepReport(step.number(), step.line(), step.text(), step.kind(), Status.NOT_RUN,
                            Map.of(), List.of(), null, null));
                    continue;
                }
                StepReport report = run.execute(step);
                reports.add(report);
                progress.accept(report);
                switch (report.status()) {
                    case PASS -> passed++;
                    case FAIL -> failed++;
                    case ERROR -> {
                        failed++;
                        int later = scenario.steps().size() - step.number();
                        stop = new Stop(step.line(), step.number(), step.text(), String.format(
                                "%s:%d: step %d '%s' failed: %s; the run stops here (%d later step%s not run)",
                                scenario.file(), step.line(), step.number(), step.text(), report.message(), later,
                                later == 1 ? "" : "s"));
                    }
                    default -> {
                    }
                }
            }
        }
        return new ScenarioReport(scenario.file(), failed == 0, passed, failed, List.of(), stop, reports,
                System.nanoTime() - wallStart);
    }

    /** What one statement gave, before it becomes a {@link StepReport}. */
    private record Outcome(Status status, Map<String, Long> results, List<Long> values, String message) {
        static Outcome ok(String message) {
            return new Outcome(Status.OK, Map.of(), List.of(), message);
        }
    }

    /** The state of one run: hosts, the VM, variables. */
    private final class Run implements AutoCloseable {
        private final Map<String, SimulatedHost> hosts = new HashMap<>();
        private final Map<String, Long> vars = new HashMap<>();
        private SimulatedHost vmHost;
        private Lab lab;
        /** Set once a guest fault has left a vCPU stuck on its faulting instruction. */
        private String guestUnusable;
        private Step current;

        StepReport execute(Step step) {
            current = step;
            Outcome outcome;
            try {
                outcome = perform(step.statement());
            } catch (ProbeException e) {
                outcome = error(guestFault(e));
            } catch (KvmException | ScenarioRuntimeException | UnicornException | IllegalArgumentException
                    | IllegalStateException e) {
                // The errors a step can meet: KVM's errno, the scenario's own, the engine's, bad settings.
                outcome = error(e.getMessage());
            } catch (RuntimeException e) {
                // Anything else is a bug somewhere: name the exception, still stop cleanly.
                outcome = error(e.toString());
            }
            return new StepReport(step.number(), step.line(), step.text(), step.kind(), outcome.status(),
                    outcome.results(), outcome.values(), outcome.message(),
                    vmHost == null ? null : vmHost.monotonicNanos());
        }

        private Outcome error(String message) {
            return new Outcome(Status.ERROR, Map.of(), List.of(), message);
        }

        /** Notes that the guest cannot run any more and says why. */
        private String guestFault(ProbeException e) {
            String message = "guest fault: " + e.getMessage();
            guestUnusable = String.format("line %d (step %d): %s", current.line(), current.number(), message);
            return message;
        }

        private Outcome perform(Statement statement) {
            return switch (statement) {
                case Statement.DefineHost h -> defineHost(h);
                case Statement.CreateVm v -> createVm(v);
                case Statement.Advance a -> {
                    long nanos = eval(a.nanos());
                    if (nanos < 0) {
                        throw new ScenarioRuntimeException("advance by " + fmt(nanos)
                                + " ns: host time never goes back");
                    }
                    vmHost.clock().advance(nanos);
                    yield Outcome.ok(String.format("host time %s ns, host TSC %s", fmt(vmHost.monotonicNanos()),
                            fmt(vmHost.tsc())));
                }
                case Statement.HostRead r -> bind(r.targets(), List.of(r.what()),
                        List.of(r.what().equals("tsc") ? vmHost.tsc() : vmHost.monotonicNanos()), false);
                case Statement.SetVm s -> {
                    long khz = eval(s.value());
                    kvm().setTscKhz(khz);
                    yield Outcome.ok("VM default TSC := " + fmt(khz) + " kHz");
                }
                case Statement.GetVm g -> bind(g.targets(), List.of(g.key()), List.of(switch (g.key()) {
                    case "tsc-khz" -> kvm().getTscKhz();
                    case "tsc-generation" -> kvm().tscGeneration();
                    case "vcpus-matched" -> (long) kvm().vcpusMatched();
                    default -> kvm().masterClockUsable() ? 1L : 0L;
                }), false);
                case Statement.SetVcpu s -> setVcpu(s);
                case Statement.GetVcpu g -> getVcpu(g);
                case Statement.Guest g -> guest(g);
                case Statement.Let l -> {
                    long value = eval(l.value());
                    vars.put(l.name(), value);
                    yield new Outcome(Status.OK, Map.of(l.name(), value), List.of(value),
                            l.name() + " = " + fmt(value));
                }
                case Statement.Expect e -> expect(e);
                case Statement.ExpectError e -> expectError(e);
                case Statement.Print p -> {
                    List<Long> values = new ArrayList<>();
                    List<String> shown = new ArrayList<>();
                    for (int i = 0; i < p.values().size(); i++) {
                        long v = eval(p.values().get(i));
                        values.add(v);
                        shown.add(p.texts().get(i) + " = " + fmt(v) + " (" + hex(v) + ")");
                    }
                    yield new Outcome(Status.OK, Map.of(), values, String.join(", ", shown));
                }
            };
        }

        private Outcome defineHost(Statement.DefineHost h) {
            Map<String, Long> s = new HashMap<>();
            h.settings().forEach((k, v) -> s.put(k, eval(v)));
            CostModel costs = new CostModel(s.getOrDefault("ns-per-block", CostModel.DEFAULT.nanosPerBlock()),
                    s.getOrDefault("ns-per-exit", CostModel.DEFAULT.nanosPerExit()));
            SimulatedHost host = SimulatedHost.standard(h.name(), new VirtualClock(costs));
            host = (s.containsKey("tsc-hz") ? host.withTscHz(s.get("tsc-hz"))
                    : host.withTscKhz(s.getOrDefault("tsc-khz", host.tscKhz())))
                    .withFracBits(Math.clamp(s.getOrDefault("frac-bits", (long) host.fracBits()), 0, 64))
                    .withTscStable(s.getOrDefault("stable", host.tscStable() ? 1L : 0L) != 0)
                    .withTscAtBoot(s.getOrDefault("tsc-at-boot", host.tscAtBoot()))
                    .withBootEpoch(s.getOrDefault("boot-epoch", host.bootEpochNanos()))
                    .withRealtimeError(s.getOrDefault("realtime-error", host.realtimeErrorNanos()));
            hosts.put(h.name(), host);
            return Outcome.ok(describe(host));
        }

        private String describe(SimulatedHost host) {
            String hz = host.tscHz() % 1000 == 0 ? "" : " (" + fmt(host.tscHz()) + " Hz)";
            return String.format("%s: TSC %s kHz%s, %s (%d frac bits), %s, TSC %s at boot", host.name(),
                    fmt(host.tscKhz()), hz, host.fracBits() == 48 ? "VMX" : "SVM", host.fracBits(),
                    host.tscStable() ? "stable" : "unstable", fmt(host.tscAtBoot()));
        }

        private Outcome createVm(Statement.CreateVm v) {
            SimulatedHost host = v.host() == null ? SimulatedHost.standard("host", new VirtualClock())
                    : hosts.get(v.host());
            long vcpus = eval(v.vcpus());
            if (vcpus < 1 || vcpus > BootLayout.MAX_VCPUS) {
                throw new ScenarioRuntimeException("vcpus must be 1 to " + BootLayout.MAX_VCPUS + ", got " + vcpus);
            }
            long khz = v.tscKhz() == null ? 0 : eval(v.tscKhz());
            long quantum = v.quantum() == null ? Machine.DEFAULT_QUANTUM : eval(v.quantum());
            lab = Lab.create(unicorn.get(), host, (int) vcpus, khz, quantum);
            vmHost = host;
            KvmVm kvm = lab.kvm();
            return Outcome.ok(String.format("%d vCPU%s at %s kHz on %s; TSC generation %d, master clock %s,"
                    + " host time %s ns", vcpus, vcpus == 1 ? "" : "s", fmt(kvm.vcpu(0).getTscKhz()),
                    v.host() == null ? describe(host) : host.name(), kvm.tscGeneration(),
                    kvm.masterClockUsable() ? "usable" : "not usable", fmt(host.monotonicNanos())));
        }

        private KvmVm kvm() {
            return lab.kvm();
        }

        /** The vCPUs a step addresses, checked: a missing one is ENOENT, as KVM's vCPU lookup. */
        private List<KvmVcpu> vcpus(Cpu cpu) {
            if (cpu.all()) {
                return kvm().vcpus();
            }
            return List.of(kvm().vcpu(cpu.index()));
        }

        private Outcome setVcpu(Statement.SetVcpu s) {
            long value = eval(s.value());
            List<KvmVcpu> targets = vcpus(s.cpu());
            for (KvmVcpu vcpu : targets) {
                switch (s.what()) {
                    case TSC_KHZ -> vcpu.setTscKhz(value);
                    case MSR -> vcpu.setMsr(s.selector(), value);
                    case ATTR -> vcpu.setAttr(TscAttribute.GROUP_TSC_CTRL, s.selector(), value);
                }
            }
            String what = switch (s.what()) {
                case TSC_KHZ -> "TSC kHz";
                case MSR -> ScenarioParser.msrName(s.selector());
                case ATTR -> ScenarioParser.attributeName(s.selector());
            };
            return Outcome.ok(String.format("%s: %s := %s", who(s.cpu(), targets.size()), what, fmt(value)));
        }

        private Outcome getVcpu(Statement.GetVcpu g) {
            List<KvmVcpu> targets = vcpus(g.cpu());
            long[] values = targets.stream().mapToLong(vcpu -> switch (g.what()) {
                case TSC_KHZ -> vcpu.getTscKhz();
                case MSR -> vcpu.getMsr(g.selector());
                case ATTR -> vcpu.getAttr(TscAttribute.GROUP_TSC_CTRL, g.selector());
                case VCPU_STATE -> g.key().equals("tsc-generation") ? vcpu.tscGeneration() : vcpu.tscRatio();
            }).toArray();
            boolean hex = g.what() == Statement.Getter.VCPU_STATE && g.key().equals("tsc-ratio");
            String single = switch (g.what()) {
                case TSC_KHZ -> "khz";
                case VCPU_STATE -> g.key();
                default -> "value";
            };
            if (!g.cpu().all()) {
                return bind(g.targets(), List.of(single), List.of(values[0]), hex);
            }
            long min = Arrays.stream(values).min().orElseThrow();
            long max = Arrays.stream(values).max().orElseThrow();
            Outcome o = bind(g.targets(), List.of("min", "max"), List.of(min, max), hex);
            return new Outcome(o.status(), o.results(), o.values(), "all " + values.length + " vCPUs: " + o.message());
        }

        private Outcome guest(Statement.Guest g) {
            if (guestUnusable != null) {
                throw new ScenarioRuntimeException("the guest cannot run any more: a vCPU stopped on a fault at "
                        + guestUnusable);
            }
            List<Long> args = g.args().stream().map(this::eval).toList();
            List<Integer> ids = vcpus(g.cpu()).stream().map(KvmVcpu::id).toList();
            int id = ids.getFirst();
            List<Long> results = switch (g.op()) {
                case RDTSC -> List.of(lab.rdtsc(id));
                case RDTSCP -> longs(lab.rdtscp(id));
                case RDMSR -> List.of(lab.rdmsr(id, g.msr()));
                case WRMSR -> {
                    lab.wrmsr(id, g.msr(), args.getFirst());
                    yield List.of();
                }
                case CPUID -> longs(lab.cpuid(id, u32(args.getFirst(), "CPUID leaf"),
                        args.size() > 1 ? u32(args.get(1), "CPUID subleaf") : 0));
                case SPIN -> longs(lab.spin(id, args.getFirst()));
                case BATCH -> {
                    long count = args.getFirst();
                    if (count < 1 || count > Lab.MAX_BATCH) {
                        throw new ScenarioRuntimeException("batch count must be 1 to " + Lab.MAX_BATCH + ", got "
                                + count);
                    }
                    long[] readings = lab.batch(id, (int) count);
                    long min = Long.MAX_VALUE;
                    long max = Long.MIN_VALUE;
                    long regressions = 0;
                    for (int i = 0; i < readings.length; i++) {
                        min = Math.min(min, readings[i]);
                        max = Math.max(max, readings[i]);
                        if (i > 0 && Long.compareUnsigned(readings[i], readings[i - 1]) < 0) {
                            regressions++;
                        }
                    }
                    yield List.of((long) readings.length, min, max, regressions);
                }
                case SYNC -> {
                    long regressions = 0;
                    long iterations = 0;
                    long largest = 0;
                    for (Lab.SyncResult r : lab.sync(ids, args.getFirst())) {
                        regressions += r.regressions();
                        iterations += r.iterations();
                        largest = Math.max(largest, r.largestRegression());
                    }
                    yield List.of(regressions, iterations, largest);
                }
            };
            if (g.op() == Statement.GuestOp.WRMSR) {
                return Outcome.ok(String.format("vCPU %d wrote %s := %s", id, ScenarioParser.msrName(g.msr()),
                        fmt(args.getFirst())));
            }
            Outcome o = bind(g.targets(), g.op().results, results, g.op() == Statement.GuestOp.CPUID);
            return g.cpu().all() ? new Outcome(o.status(), o.results(), o.values(),
                    "all " + ids.size() + " vCPUs: " + o.message()) : o;
        }

        private static int u32(long value, String what) {
            if (value < 0 || value > 0xffff_ffffL) {
                throw new ScenarioRuntimeException(what + " " + hex(value) + " does not fit in 32 bits");
            }
            return (int) value;
        }

        private static List<Long> longs(long[] values) {
            return Arrays.stream(values).boxed().toList();
        }

        private String who(Cpu cpu, int count) {
            return cpu.all() ? "vCPUs 0-" + (count - 1) : "vCPU " + cpu.index();
        }

        /** Binds the named targets (skipping _) and describes every value, bound or not. */
        private Outcome bind(List<String> targets, List<String> labels, List<Long> values, boolean hex) {
            Map<String, Long> bound = new LinkedHashMap<>();
            List<String> shown = new ArrayList<>();
            List<String> extra = new ArrayList<>();
            for (int i = 0; i < values.size(); i++) {
                String text = hex ? hex32or64(values.get(i)) : fmt(values.get(i));
                if (i < targets.size() && !targets.get(i).equals("_")) {
                    vars.put(targets.get(i), values.get(i));
                    bound.put(targets.get(i), values.get(i));
                    shown.add(targets.get(i) + " = " + text);
                } else {
                    extra.add(labels.get(i) + " " + text);
                }
            }
            String message = String.join("  ", shown);
            if (!extra.isEmpty()) {
                message += (message.isEmpty() ? "" : "  ") + "(" + String.join(", ", extra) + ")";
            }
            return new Outcome(Status.OK, Collections.unmodifiableMap(bound), values, message);
        }

        private Outcome expect(Statement.Expect e) {
            List<Long> values = new ArrayList<>();
            for (Expr operand : e.operands()) {
                values.add(eval(operand));
            }
            Long tolerance = e.tolerance() == null ? null : eval(e.tolerance());
            if (tolerance != null && tolerance < 0) {
                throw new ScenarioRuntimeException("tolerance " + fmt(tolerance) + " is negative");
            }
            boolean holds = true;
            StringBuilder shown = new StringBuilder(fmt(values.getFirst()));
            for (int i = 0; i < e.ops().size(); i++) {
                long a = values.get(i);
                long b = values.get(i + 1);
                String op = e.ops().get(i);
                holds &= tolerance != null ? withinTolerance(op, a, b, tolerance) : compare(op, a, b);
                shown.append(' ').append(op).append(' ').append(fmt(b));
            }
            if (tolerance != null) {
                shown.append(" +- ").append(fmt(tolerance));
                values.add(tolerance);
            }
            if (!holds && e.ops().size() == 1 && e.ops().getFirst().equals("==")) {
                // Say by how much, with or without a tolerance.
                long a = values.get(0);
                long b = values.get(1);
                try {
                    shown.append("; differ by ").append(fmt(Math.subtractExact(a, b)));
                } catch (ArithmeticException overflow) {
                    // Too far apart to say by how much in 64 bits.
                }
            }
            return new Outcome(holds ? Status.PASS : Status.FAIL, Map.of(), values, shown.toString());
        }

        private static boolean withinTolerance(String op, long a, long b, long tolerance) {
            // |a - b| <= tolerance, without overflow for far-apart values.
            long distance = a >= b ? a - b : b - a; // as an unsigned value, it cannot overflow
            boolean within = Long.compareUnsigned(distance, tolerance) <= 0;
            return op.equals("==") == within;
        }

        private static boolean compare(String op, long a, long b) {
            return switch (op) {
                case "==" -> a == b;
                case "!=" -> a != b;
                case "<" -> a < b;
                case "<=" -> a <= b;
                case ">" -> a > b;
                case ">=" -> a >= b;
                default -> throw new IllegalStateException(op);
            };
        }

        private Outcome expectError(Statement.ExpectError e) {
            String expected = e.errno() == null ? "a guest fault" : e.errno().name();
            try {
                Outcome o = perform(e.step().statement());
                return new Outcome(Status.FAIL, o.results(), o.values(), "expected " + expected
                        + ", but the step succeeded" + (o.message().isEmpty() ? "" : ": " + o.message()));
            } catch (KvmException k) {
                boolean holds = e.errno() != null && k.errno() == e.errno();
                return new Outcome(holds ? Status.PASS : Status.FAIL, Map.of(), List.of(),
                        holds ? k.getMessage() : "expected " + expected + ", got " + k.getMessage());
            } catch (ProbeException p) {
                String fault = guestFault(p);
                boolean holds = e.errno() == null;
                return new Outcome(holds ? Status.PASS : Status.FAIL, Map.of(), List.of(),
                        holds ? fault : "expected " + expected + ", got a " + fault);
            }
        }

        private long eval(Expr expr) {
            return expr.eval(vars);
        }

        @Override
        public void close() {
            if (lab != null) {
                lab.close();
            }
        }
    }

    /** 2,500,123 (grouped, like the tools print counts). */
    static String fmt(long value) {
        return String.format(Locale.ROOT, "%,d", value);
    }

    static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }

    private static String hex32or64(long value) {
        return (value >>> 32) == 0 ? String.format("0x%08x", value) : hex(value);
    }
}
