package dev.tickvm.scenario;

import dev.tickvm.cpu.BootLayout;
import dev.tickvm.devices.KvmClockDevice;
import dev.tickvm.host.CostModel;
import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.kvm.ClockData;
import dev.tickvm.kvm.KvmException;
import dev.tickvm.kvm.KvmRequest;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.kvm.Msr;
import dev.tickvm.kvm.Pvclock;
import dev.tickvm.kvm.PvclockMode;
import dev.tickvm.kvm.TscAttribute;
import dev.tickvm.lab.Lab;
import dev.tickvm.lab.ProbeException;
import dev.tickvm.lab.WatchFindings;
import dev.tickvm.machine.Machine;
import dev.tickvm.scenario.ScenarioReport.Status;
import dev.tickvm.scenario.ScenarioReport.StepReport;
import dev.tickvm.scenario.ScenarioReport.Stop;
import dev.tickvm.scenario.Statement.Cpu;
import dev.tickvm.scenario.Statement.Step;
import dev.tickvm.snapshot.Progress;
import dev.tickvm.snapshot.SaveResult;
import dev.tickvm.snapshot.SnapshotException;
import dev.tickvm.tools.WorkProgress;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.vm.HostSpec;
import dev.tickvm.vm.RestoreStrategy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
    private WorkProgress work = WorkProgress.OFF;

    /** {@code unicorn} is asked for the engine only when the scenario creates its VM. */
    public ScenarioRunner(Supplier<Unicorn> unicorn) {
        this.unicorn = unicorn;
    }

    /**
     * Told how each of the file's own steps is going (a loop with its iterations is one): named
     * FILE:LINE: TEXT, with the iterations done of a loop's and the step inside it, a sample's rows
     * written, or the guest's blocks run in the step; and true time. It only looks: the run and its report stay the same.
     */
    public ScenarioRunner progress(WorkProgress work) {
        this.work = work;
        return this;
    }

    /**
     * Most steps one run may execute, each step of each loop iteration counted (loop headers too):
     * a loop that would go past it stops the run with a runtime error.
     */
    static final long MAX_STEPS = 100_000;

    /** Most rows one sample step may write. */
    static final long MAX_SAMPLE_ROWS = 1_000_000;

    /** Runs every step; {@code progress} sees each step's report as soon as it is done. */
    public ScenarioReport run(Scenario scenario, Consumer<StepReport> progress) {
        long wallStart = System.nanoTime();
        Stop stop;
        List<StepReport> reports;
        int passed;
        int failed;
        try (Run run = new Run(scenario, progress)) {
            try {
                run.steps(scenario.steps(), List.of());
            } finally {
                work.finish();
            }
            reports = run.reports;
            passed = run.passed;
            failed = run.failed;
            stop = null;
            if (run.stopped != null) {
                StepReport at = run.stopped;
                long later = reports.stream().filter(r -> r.status() == Status.NOT_RUN).count();
                stop = new Stop(at.line(), at.step(), at.text(), String.format(
                        "%s:%d: step %d '%s' failed: %s; the run stops here (%d later step%s not run)",
                        scenario.file(), at.line(), at.step(), at.text(), at.message(), later,
                        later == 1 ? "" : "s"));
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
        private final Consumer<StepReport> progress;
        private final List<StepReport> reports = new ArrayList<>();
        private int passed;
        private int failed;
        /** The step whose runtime error stopped the run, or null. */
        private StepReport stopped;
        /** Steps executed so far, loop iterations included (see {@link #MAX_STEPS}). */
        private long executed;
        private final Map<String, SimulatedHost> hosts = new HashMap<>();
        private final Map<String, Long> vars = new HashMap<>();
        private SimulatedHost vmHost;
        /** True time, shared by every host of the scenario; made with the first host (or the VM). */
        private VirtualClock trueClock;
        private Lab lab;
        private long quantum;
        /** Where relative snapshot names live: a directory of this run's own, removed at its end. */
        private Path snapshots;
        /** The userspace half of kvmclock (QEMU's kvmclock device): freezes the clock while paused. */
        private KvmClockDevice clockDevice;
        /** While paused: the line of the 'pause', and the host ns it happened at; else 0 and -1. */
        private int pausedLine;
        private long pausedAtNanos = -1;
        /** Set once a guest fault has left a vCPU stuck on its faulting instruction. */
        private String guestUnusable;
        private Step current;

        /** Where relative sample files go: the scenario file's directory. */
        private final Path scenarioFile;
        private final String file;
        /** The lab whose machine tells {@link #tick} about its turns. */
        private Lab watched;
        /** The lab and its blocks when the file's step now running began (its progress counts from there). */
        private Lab stepLab;
        private long stepBlocks;
        /** In a loop of the file's own: its iterations done and in all (else -1), and the step running in it. */
        private long loopDone = -1;
        private long loopTotal;
        private String loopAt = "";
        /** In a step that counts its own work (a sample's rows): done and in all (else -1), and of what. */
        private long countDone = -1;
        private long countTotal;
        private String countUnit = "";

        Run(Scenario scenario, Consumer<StepReport> progress) {
            this.progress = progress;
            this.file = scenario.file();
            this.scenarioFile = Path.of(scenario.file()).toAbsolutePath().normalize();
        }

        /**
         * Runs {@code steps} in order, each loop's body once per iteration; {@code iteration} labels
         * the enclosing loops' iterations (e.g. "i=3"). After a runtime error the rest is not run.
         */
        void steps(List<Step> steps, List<String> iteration) {
            String prefix = iteration.isEmpty() ? "" : "[" + String.join(" ", iteration) + "] ";
            for (Step step : steps) {
                if (stopped != null) {
                    reports.add(new StepReport(step.number(), step.line(), prefix + step.text(), step.kind(),
                            Status.NOT_RUN, Map.of(), List.of(), null, null));
                    continue;
                }
                boolean own = iteration.isEmpty();
                if (own) {
                    work.start(file + ":" + step.line() + ": " + step.text());
                    stepLab = lab;
                    stepBlocks = lab == null ? 0 : lab.machine().blocks();
                } else {
                    loopAt = "line " + step.line() + ": " + prefix + step.text();
                }
                watchLab();
                tick();
                StepReport report;
                if (++executed > MAX_STEPS) {
                    report = report(step, prefix, error("the run has executed " + fmt(MAX_STEPS) + " steps, the most"
                            + " one run may (each step of each loop iteration counts)"));
                } else {
                    report = execute(step, prefix);
                }
                watchLab();
                if (own && !(step.statement() instanceof Statement.Loop)) {
                    work.finish(); // a bar goes before the step's line
                } else {
                    work.interrupt(); // a loop's bar makes way for the line
                }
                reports.add(report);
                progress.accept(report);
                switch (report.status()) {
                    case PASS -> passed++;
                    case FAIL -> failed++;
                    case ERROR -> {
                        failed++;
                        stopped = report;
                    }
                    default -> {
                    }
                }
                if (stopped == null && step.statement() instanceof Statement.Loop loop) {
                    iterate(loop, iteration);
                }
                if (own) {
                    work.finish();
                }
            }
        }

        /** Has the lab's machine (a new one after a vm, restore or migrate step) report its turns. */
        private void watchLab() {
            if (lab != watched && work != WorkProgress.OFF) {
                watched = lab;
                if (lab != null) {
                    lab.machine().observeTurns(this::tick);
                }
            }
        }

        /** Tells the progress where the file's step now running is. */
        private void tick() {
            if (loopDone >= 0) {
                work.update(loopDone, loopTotal, "iterations", () -> loopAt);
                return;
            }
            Supplier<String> trueTime = () -> vmHost == null ? "" : "true time " + fmt(vmHost.trueNanos()) + " ns";
            if (countDone >= 0) {
                work.update(countDone, countTotal, countUnit, trueTime);
                return;
            }
            long blocks = lab == null ? 0 : lab.machine().blocks() - (lab == stepLab ? stepBlocks : 0);
            work.update(blocks, 0, "guest blocks", trueTime);
        }

        /** The iterations of a loop whose header has run (and checked its count or range). */
        private void iterate(Statement.Loop loop, List<String> iteration) {
            long first = loop.variable() == null ? 1 : eval(loop.from());
            long last = loop.variable() == null ? eval(loop.count()) : eval(loop.to());
            boolean own = iteration.isEmpty();
            if (own) {
                loopTotal = last < first ? 0 : last - first + 1 <= 0 ? Long.MAX_VALUE : last - first + 1;
            }
            try {
                for (long v = first; v <= last && stopped == null; v++) {
                    if (own) {
                        loopDone = v - first;
                    }
                    List<String> labels = new ArrayList<>(iteration);
                    if (loop.variable() == null) {
                        labels.add("#" + v);
                    } else {
                        vars.put(loop.variable(), v);
                        labels.add(loop.variable() + "=" + v);
                    }
                    steps(loop.body(), labels);
                    if (v == Long.MAX_VALUE) {
                        break;
                    }
                }
            } finally {
                if (own) {
                    loopDone = -1;
                }
                if (loop.variable() != null) {
                    vars.remove(loop.variable());
                }
            }
        }

        /** A loop's header: how many times its body will run. */
        private Outcome loopHeader(Statement.Loop loop) {
            if (loop.variable() == null) {
                long count = eval(loop.count());
                if (count < 0) {
                    throw new ScenarioRuntimeException("repeat count must be 0 or more, got " + fmt(count));
                }
                return new Outcome(Status.OK, Map.of(), List.of(count), fmt(count) + " iteration" + (count == 1 ? ""
                        : "s"));
            }
            long from = eval(loop.from());
            long to = eval(loop.to());
            long count;
            try {
                count = to < from ? 0 : Math.addExact(Math.subtractExact(to, from), 1);
            } catch (ArithmeticException e) {
                count = Long.MAX_VALUE;
            }
            return new Outcome(Status.OK, Map.of(), List.of(from, to, count), String.format("%s from %s to %s: %s"
                    + " iteration%s", loop.variable(), fmt(from), fmt(to), fmt(count), count == 1 ? "" : "s"));
        }

        private StepReport report(Step step, String prefix, Outcome outcome) {
            return new StepReport(step.number(), step.line(), prefix + step.text(), step.kind(), outcome.status(),
                    outcome.results(), outcome.values(), outcome.message(),
                    vmHost == null ? null : vmHost.trueNanos());
        }

        StepReport execute(Step step, String prefix) {
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
            } catch (ArithmeticException e) {
                // Math.*Exact somewhere below: a time, count or value the step computes left 64 bits.
                outcome = error(step.text().split("\\s+", 2)[0] + ": a value it computes would pass the 64-bit range"
                        + " (2^63-1; as nanoseconds, 292 years): use smaller numbers");
            } catch (RuntimeException e) {
                // Anything else is a bug somewhere: name the exception, still stop cleanly.
                outcome = error(e.toString());
            }
            return report(step, prefix, outcome);
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
                    long left = Long.MAX_VALUE - vmHost.clock().nanos();
                    if (nanos > left) {
                        throw new ScenarioRuntimeException("advance by " + fmt(nanos) + " ns would take the host clock"
                                + " past 2^63-1 ns (292 years): at most " + fmt(left) + " ns are left");
                    }
                    vmHost.clock().advance(nanos);
                    yield Outcome.ok(String.format("true time %s ns, host TSC %s", fmt(vmHost.trueNanos()),
                            fmt(vmHost.tsc())));
                }
                case Statement.HostRead r -> {
                    SimulatedHost.Reading now = vmHost.read();
                    yield bind(r.targets(), List.of(r.what()), List.of(switch (r.what()) {
                        case "tsc" -> now.tsc();
                        case "realtime" -> now.realtimeNanos();
                        case "raw" -> now.rawNanos();
                        case "tai" -> now.taiNanos();
                        case "true" -> now.trueNanos();
                        default -> now.monotonicNanos();
                    }), false);
                }
                case Statement.SetHost h -> setHost(h);
                case Statement.SetVm s -> {
                    if (s.mode() != null) {
                        kvm().setPvclockMode(s.mode());
                        yield Outcome.ok("pvclock scale := " + (s.mode() == PvclockMode.EXACT ? "exact" : "kvm-compat")
                                + "; every vCPU's pvclock page takes it at its next entry");
                    }
                    long khz = eval(s.value());
                    kvm().setTscKhz(khz);
                    yield Outcome.ok("VM default TSC := " + fmt(khz) + " kHz");
                }
                case Statement.GetVm g -> bind(g.targets(), List.of(g.key()), List.of(switch (g.key()) {
                    case "tsc-khz" -> kvm().getTscKhz();
                    case "tsc-generation" -> kvm().tscGeneration();
                    case "vcpus-matched" -> (long) kvm().vcpusMatched();
                    case "use-master-clock" -> kvm().usesMasterClock() ? 1L : 0L;
                    case "kvmclock-offset" -> kvm().kvmclockOffset();
                    case "clock-update-due" -> kvm().clockUpdateWorkDue();
                    case "clock-sync-due" -> kvm().clockSyncWorkDue();
                    default -> kvm().masterClockUsable() ? 1L : 0L;
                }), false);
                case Statement.GetClock g -> getClock(g);
                case Statement.SetClock c -> setClock(c);
                case Statement.GetPvclock g -> getPvclock(g);
                case Statement.EnableKvmclock e -> enableKvmclock(e);
                case Statement.KvmclockCtrl k -> {
                    List<KvmVcpu> targets = vcpus(k.cpu());
                    targets.forEach(KvmVcpu::kvmclockCtrl);
                    yield Outcome.ok(who(k.cpu(), targets.size()) + ": KVM_KVMCLOCK_CTRL: PVCLOCK_GUEST_STOPPED goes"
                            + " on the pvclock page at the next entry");
                }
                case Statement.RunState r -> r.pause() ? pause() : resume();
                case Statement.Save v -> save(v);
                case Statement.RunGuest g -> {
                    requireGuest();
                    long nanos = eval(g.nanos());
                    if (nanos < 0) {
                        throw new ScenarioRuntimeException("run for " + fmt(nanos) + " ns: time never goes back");
                    }
                    long reached = lab.runFor(nanos);
                    yield Outcome.ok(String.format("the guest ran to true time %s ns, host TSC %s", fmt(reached),
                            fmt(vmHost.tsc())));
                }
                case Statement.Restore r -> restore(r);
                case Statement.Migrate m -> migrate(m);
                case Statement.SetVcpu s -> setVcpu(s);
                case Statement.GetVcpu g -> getVcpu(g);
                case Statement.Guest g -> guest(g);
                case Statement.Let l -> {
                    long value = eval(l.value());
                    vars.put(l.name(), value);
                    yield new Outcome(Status.OK, Map.of(l.name(), value), List.of(value),
                            l.name() + " = " + fmt(value));
                }
                case Statement.Loop l -> loopHeader(l);
                case Statement.Sample s -> sample(s);
                case Statement.Expect e -> expect(e);
                case Statement.ExpectError e -> expectError(e);
                case Statement.Print p -> {
                    List<Long> values = new ArrayList<>();
                    List<String> shown = new ArrayList<>();
                    for (int i = 0; i < p.values().size(); i++) {
                        long v = eval(p.values().get(i));
                        values.add(v);
                        shown.add(p.texts().get(i) + " = " + (p.hex().contains(i) ? hex(v) : fmt(v)));
                    }
                    yield new Outcome(Status.OK, Map.of(), values, String.join(", ", shown));
                }
            };
        }

        private Outcome defineHost(Statement.DefineHost h) {
            Map<String, Long> s = new HashMap<>();
            h.settings().forEach((k, v) -> s.put(k, eval(v)));
            CostModel costs = HostSpec.costs(s);
            if (trueClock == null) {
                trueClock = new VirtualClock(costs);
            } else if (!costs.equals(trueClock.costs()) && (s.containsKey("ns-per-block") || s.containsKey("ns-per-exit"))) {
                throw new ScenarioRuntimeException("the cost model (ns-per-block, ns-per-exit) belongs to true time,"
                        + " which every host shares: set it on the first host only");
            }
            SimulatedHost host = HostSpec.build(h.name(), trueClock, s);
            hosts.put(h.name(), host);
            return Outcome.ok(describe(host));
        }

        private Outcome setHost(Statement.SetHost h) {
            SimulatedHost host = h.host() == null ? vmHost : hosts.get(h.host());
            long offset = h.settings().containsKey("ntp-offset") ? eval(h.settings().get("ntp-offset"))
                    : host.ntpOffsetNanos();
            long slew = h.settings().containsKey("ntp-slew-ppb") ? eval(h.settings().get("ntp-slew-ppb"))
                    : host.ntpSlewPpb();
            host.setNtp(offset, slew);
            return Outcome.ok(String.format("%s: NTP offset %s ns, slew %s ppb from true time %s ns", host.name(),
                    fmt(offset), fmt(slew), fmt(host.trueNanos())));
        }

        private String describe(SimulatedHost host) {
            String hz = host.tscHz() == host.tscKhz() * 1000 ? "" : " (crystal " + fmt(host.tscHz()) + " Hz)";
            String ntp = host.ntpOffsetNanos() == 0 && host.ntpSlewPpb() == 0 ? ""
                    : String.format(", NTP offset %s ns slew %s ppb", fmt(host.ntpOffsetNanos()), fmt(host.ntpSlewPpb()));
            return String.format("%s: TSC %s kHz%s, %s (%d frac bits)%s, %s, TSC %s at boot%s", host.name(),
                    fmt(host.tscKhz()), hz, host.fracBits() == 48 ? "VMX" : "SVM", host.fracBits(),
                    host.tscScaling() ? "" : " without TSC scaling", host.tscStable() ? "stable" : "unstable",
                    fmt(host.tscAtBoot()), ntp);
        }

        private Outcome createVm(Statement.CreateVm v) {
            if (trueClock == null) {
                trueClock = new VirtualClock();
            }
            SimulatedHost host = v.host() == null ? SimulatedHost.standard("host", trueClock) : hosts.get(v.host());
            long vcpus = eval(v.vcpus());
            if (vcpus < 1 || vcpus > BootLayout.MAX_VCPUS) {
                throw new ScenarioRuntimeException("vcpus must be 1 to " + BootLayout.MAX_VCPUS + ", got " + vcpus);
            }
            long khz = v.tscKhz() == null ? 0 : eval(v.tscKhz());
            long quantum = v.quantum() == null ? Machine.DEFAULT_QUANTUM : eval(v.quantum());
            lab = Lab.create(unicorn.get(), host, (int) vcpus, khz, quantum, v.boot());
            this.quantum = quantum;
            vmHost = host;
            clockDevice = lab.vm().clockDevice();
            KvmVm kvm = lab.kvm();
            return Outcome.ok(String.format("%d vCPU%s at %s kHz on %s; TSC generation %d, master clock %s%s,"
                    + " true time %s ns", vcpus, vcpus == 1 ? "" : "s", fmt(kvm.getTscKhz()),
                    v.host() == null ? describe(host) : host.name(), kvm.tscGeneration(),
                    kvm.usesMasterClock() ? "on" : "off", v.boot() ? "" : " (created, not run yet)",
                    fmt(host.trueNanos())));
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
                case VCPU_STATE -> switch (g.key()) {
                    case "tsc-generation" -> vcpu.tscGeneration();
                    case "pvclock-hz" -> vcpu.pvclockTscHz();
                    case "pending-requests" -> vcpu.pendingRequests();
                    case "tsc-catchup" -> vcpu.tscAlwaysCatchup() ? 2L : vcpu.tscCatchup() ? 1L : 0L;
                    case "has-run" -> vcpu.hasRun() ? 1L : 0L;
                    default -> vcpu.tscRatio();
                };
            }).toArray();
            boolean hex = g.what() == Statement.Getter.VCPU_STATE && g.key().equals("tsc-ratio");
            boolean requests = g.what() == Statement.Getter.VCPU_STATE && g.key().equals("pending-requests");
            Shown show = (i, v) -> requests ? fmt(v) + " (" + KvmRequest.describe((int) v) + ")" : hex ? hex32or64(v)
                    : fmt(v);
            String single = switch (g.what()) {
                case TSC_KHZ -> "khz";
                case VCPU_STATE -> g.key();
                default -> "value";
            };
            if (!g.cpu().all()) {
                return bind(g.targets(), List.of(single), List.of(values[0]), show);
            }
            long min = Arrays.stream(values).min().orElseThrow();
            long max = Arrays.stream(values).max().orElseThrow();
            Outcome o = bind(g.targets(), List.of("min", "max"), List.of(min, max), show);
            return new Outcome(o.status(), o.results(), o.values(), "all " + values.length + " vCPUs: " + o.message());
        }

        /** A guest step can run: no vCPU stuck on a fault, and the VM not paused. */
        private void requireGuest() {
            if (guestUnusable != null) {
                throw new ScenarioRuntimeException("the guest cannot run any more: a vCPU stopped on a fault at "
                        + guestUnusable);
            }
            if (pausedLine != 0) {
                // The parser refuses guest steps between pause and resume; this is the runner's own guard.
                throw new ScenarioRuntimeException("the VM is paused (since line " + pausedLine + ")");
            }
        }

        private Outcome guest(Statement.Guest g) {
            requireGuest();
            List<Long> args = g.args().stream().map(this::eval).toList();
            List<Integer> ids = vcpus(g.cpu()).stream().map(KvmVcpu::id).toList();
            int id = ids.getFirst();
            if (g.op() == Statement.GuestOp.WATCH_START) {
                return watchStart(g, id, args);
            }
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
                case KVMCLOCK -> reading(lab.kvmclock(id, g.mode()));
                case WALLCLOCK -> {
                    Lab.WallClockReading w = lab.wallClock(id);
                    yield List.of(w.seconds(), w.nanos(), (long) w.version(), w.retries());
                }
                case KVMCLOCK_SYNC -> {
                    long reads = args.getFirst();
                    if (reads < 1 || reads > MAX_KVMCLOCK_READS) {
                        throw new ScenarioRuntimeException("kvmclock-sync reads must be 1 to " + fmt(MAX_KVMCLOCK_READS)
                                + " per vCPU, got " + fmt(reads));
                    }
                    long regressions = 0;
                    long clamps = 0;
                    long largest = 0;
                    long retries = 0;
                    for (Lab.KvmclockSyncResult r : lab.kvmclockSync(ids, reads, g.mode())) {
                        regressions += r.regressions();
                        clamps += r.clamps();
                        largest = Math.max(largest, r.largestRegression());
                        retries += r.retries();
                    }
                    yield List.of(regressions, clamps, largest, retries);
                }
                case TORN_KVMCLOCK -> {
                    int writer = kvm().vcpu(g.writer().index()).id();
                    long delay = args.getFirst();
                    if (delay < 0) {
                        throw new ScenarioRuntimeException("torn-kvmclock delay must be >= 0 cycles, got " + fmt(delay));
                    }
                    yield reading(lab.tornKvmclockRead(id, writer, delay));
                }
                case WATCH_START -> throw new IllegalStateException("watch-start is run by watchStart");
                case WATCH_STOP -> {
                    WatchFindings f = lab.stopWatch(id);
                    yield List.of(f.tsc().jumps(), f.tsc().backs(), f.tsc().maxStepNs(), f.tsc().maxBackNs(),
                            f.kvmclock().jumps(), f.kvmclock().backs(), f.kvmclock().maxStepNs(),
                            f.kvmclock().maxBackNs(), f.rounds());
                }
            };
            if (g.op() == Statement.GuestOp.WRMSR) {
                return Outcome.ok(String.format("vCPU %d wrote %s := %s", id, ScenarioParser.msrName(g.msr()),
                        fmt(args.getFirst())));
            }
            if (g.op() == Statement.GuestOp.KVMCLOCK || g.op() == Statement.GuestOp.TORN_KVMCLOCK) {
                return bind(g.targets(), g.op().results, results, (i, v) -> i == 2 ? pvclockFlags(v) : fmt(v));
            }
            Outcome o = bind(g.targets(), g.op().results, results, g.op() == Statement.GuestOp.CPUID);
            return g.cpu().all() ? new Outcome(o.status(), o.results(), o.values(),
                    "all " + ids.size() + " vCPUs: " + o.message()) : o;
        }

        /** Starts the watch loop on vCPU {@code id}; it runs on until its watch-stop. */
        private Outcome watchStart(Statement.Guest g, int id, List<Long> args) {
            long threshold = args.isEmpty() ? 0 : args.getFirst();
            if (!args.isEmpty() && threshold < 1) {
                throw new ScenarioRuntimeException("watch-start threshold must be >= 1 ns, got " + fmt(threshold));
            }
            if (g.mode() != null && !kvm().vcpu(id).pvclockEnabled()) {
                throw new ScenarioRuntimeException("vCPU " + id + " has no kvmclock to watch: put 'enable-kvmclock " + id
                        + "' before it, or watch the TSC only ('watch-start tsc')");
            }
            lab.startWatch(id, new Lab.WatchParams(0, threshold, g.mode()));
            WatchFindings f = lab.watchFindings(id);
            String clocks = g.mode() == null ? "its TSC"
                    : "its TSC and kvmclock (" + ScenarioParser.readModeWord(g.mode()) + ")";
            return Outcome.ok(String.format("vCPU %d watches %s from TSC %s; a jump is a step above %s ns", id, clocks,
                    fmt(f.startTsc()), fmt(f.thresholdNs())));
        }

        private static List<Long> reading(Lab.KvmclockReading r) {
            return List.of(r.nanos(), r.retries(), (long) r.flags(), r.clamped() ? 1L : 0L, r.tsc());
        }

        private Outcome enableKvmclock(Statement.EnableKvmclock e) {
            requireGuest();
            List<KvmVcpu> targets = vcpus(e.cpu());
            for (KvmVcpu vcpu : targets) {
                lab.enableKvmclock(vcpu.id());
            }
            Pvclock last = targets.getLast().pvclock();
            String pages = targets.size() == 1 ? "page at " + hex(Lab.pvclockPage(targets.getFirst().id()))
                    : "pages at " + hex(Lab.pvclockPage(targets.getFirst().id())) + ".."
                    + hex(Lab.pvclockPage(targets.getLast().id()));
            return Outcome.ok(String.format("%s: the guest wrote MSR_KVM_SYSTEM_TIME_NEW; pvclock %s%s; master clock %s",
                    who(e.cpu(), targets.size()), pages, last == null ? " (not published)"
                            : ", flags " + pvclockFlags(last.flags()), kvm().usesMasterClock() ? "in use" : "not in use"));
        }

        private Outcome getClock(Statement.GetClock g) {
            ClockData c = kvm().getClock();
            return bind(g.targets(), List.of("clock", "flags", "realtime", "host_tsc"),
                    List.of(c.clock(), (long) c.flags(), c.realtime(), c.hostTsc()),
                    (i, v) -> i == 1 ? clockFlags(v) : fmt(v));
        }

        private Outcome setClock(Statement.SetClock c) {
            long clock = eval(c.clock());
            Long realtime = c.realtime() == null ? null : eval(c.realtime());
            long flags = c.flags() != null ? eval(c.flags()) : realtime != null ? ClockData.REALTIME : 0;
            if (flags < 0 || flags > 0xffff_ffffL) {
                throw new ScenarioRuntimeException("set-clock flags " + hex(flags) + " do not fit in 32 bits");
            }
            kvm().setClock(new ClockData(clock, (int) flags, realtime == null ? 0 : realtime, 0));
            long now = kvm().getClock().clock();
            String moved = now == clock ? "" : " (" + fmt(clock) + " + " + fmt(now - clock)
                    + " ns of realtime since the one given)";
            return Outcome.ok(String.format("KVM_SET_CLOCK flags %s: kvmclock = %s%s, kvmclock_offset %s",
                    clockFlags(flags), fmt(now), moved, fmt(kvm().kvmclockOffset())));
        }

        private Outcome getPvclock(Statement.GetPvclock g) {
            KvmVcpu vcpu = kvm().vcpu(g.cpu().index());
            long msr = vcpu.getMsr(Msr.KVM_SYSTEM_TIME_NEW);
            long page = vcpu.pvclockEnabled() ? msr & ~1L : Lab.pvclockPage(vcpu.id());
            Pvclock p = Pvclock.read(lab.machine().memory(), page);
            Outcome o = bind(g.targets(), List.of("version", "tsc_timestamp", "system_time", "mul", "shift", "flags"),
                    List.of(p.version() & 0xffff_ffffL, p.tscTimestamp(), p.systemTime(), p.mul() & 0xffff_ffffL,
                            (long) p.shift(), (long) p.flags()),
                    (i, v) -> i == 5 ? pvclockFlags(v) : fmt(v));
            return vcpu.pvclockEnabled() ? o : new Outcome(o.status(), o.results(), o.values(),
                    o.message() + "  (kvmclock not enabled on vCPU " + vcpu.id() + ")");
        }

        private Path snapshotPath(String name) throws IOException {
            Path p = Path.of(name);
            if (p.isAbsolute()) {
                return p;
            }
            if (snapshots == null) {
                snapshots = Files.createTempDirectory("tickvm-scenario-");
            }
            return snapshots.resolve(name);
        }

        private Outcome save(Statement.Save v) {
            try {
                Path file = snapshotPath(v.file());
                SaveResult saved = lab.save(file, Progress.NONE, pausedLine == 0);
                return Outcome.ok(String.format("saved to %s: %s bytes at true time %s ns%s", v.file(), fmt(saved.fileSize()),
                        fmt(vmHost.trueNanos()), pausedLine == 0
                                ? "; the VM runs on (kvmclock put back, PVCLOCK_GUEST_STOPPED on its pages)"
                                : "; the VM stays paused"));
            } catch (IOException | SnapshotException e) {
                throw new ScenarioRuntimeException("save " + v.file() + ": " + e.getMessage());
            }
        }

        private Outcome restore(Statement.Restore r) {
            SimulatedHost destination = r.host() == null ? vmHost : hosts.get(r.host());
            RestoreStrategy strategy = RestoreStrategy.named(r.strategy());
            Lab restored;
            try {
                restored = Lab.restore(unicorn.get(), snapshotPath(r.file()), destination, strategy, quantum, Progress.NONE);
            } catch (IOException | SnapshotException e) {
                throw new ScenarioRuntimeException("restore " + r.file() + ": " + e.getMessage());
            }
            lab.close();
            lab = restored;
            vmHost = destination;
            clockDevice = lab.vm().clockDevice();
            pausedLine = 0;
            pausedAtNanos = -1;
            return Outcome.ok(String.format("restored %s on %s with '%s' at true time %s ns: %d vCPU%s, not run yet",
                    r.file(), destination.name(), strategy.name(), fmt(destination.trueNanos()), lab.vcpus(),
                    lab.vcpus() == 1 ? "" : "s"));
        }

        private Outcome migrate(Statement.Migrate m) {
            SimulatedHost destination = hosts.get(m.host());
            RestoreStrategy strategy = RestoreStrategy.named(m.strategy());
            long downtime = eval(m.downtime());
            long stagger = eval(m.stagger());
            if (downtime < 0 || stagger < 0) {
                throw new ScenarioRuntimeException("downtime and stagger are durations, got " + fmt(downtime) + " and "
                        + fmt(stagger));
            }
            long stopped = vmHost.trueNanos();
            try {
                lab = lab.migrate(unicorn.get(), destination, strategy, downtime, stagger);
            } catch (IOException | SnapshotException e) {
                throw new ScenarioRuntimeException("migrate: " + e.getMessage());
            }
            vmHost = destination;
            clockDevice = lab.vm().clockDevice();
            pausedLine = 0;
            pausedAtNanos = -1;
            return Outcome.ok(String.format("migrated to %s with '%s': stopped at true time %s ns, %s ns of downtime,"
                    + " restored by true time %s ns", destination.name(), strategy.name(), fmt(stopped), fmt(downtime),
                    fmt(destination.trueNanos())));
        }

        private Outcome sample(Statement.Sample s) {
            long every = eval(s.every());
            long duration = eval(s.duration());
            if (every <= 0) {
                throw new ScenarioRuntimeException("sample every " + fmt(every) + " ns: the interval must be positive");
            }
            if (duration < every) {
                throw new ScenarioRuntimeException("sample for " + fmt(duration) + " ns is shorter than one interval ("
                        + fmt(every) + " ns)");
            }
            long rows = duration / every;
            if (rows > MAX_SAMPLE_ROWS) {
                throw new ScenarioRuntimeException("sample would write " + fmt(rows) + " rows, more than the "
                        + fmt(MAX_SAMPLE_ROWS) + " allowed");
            }
            Path target = scenarioFile.getParent() == null ? Path.of(s.file()).toAbsolutePath()
                    : scenarioFile.getParent().resolve(s.file()).normalize();
            if (target.equals(scenarioFile)) {
                throw new ScenarioRuntimeException("sample would overwrite the scenario file itself");
            }
            Path directory = target.getParent();
            if (directory == null || !Files.isDirectory(directory)) {
                throw new ScenarioRuntimeException("sample: no directory " + directory + " for " + s.file());
            }
            String header = "true_ns," + String.join(",", s.columns());
            List<Long> first = null;
            List<Long> last = null;
            Path temporary = null;
            try {
                temporary = Files.createTempFile(directory, "." + target.getFileName(), ".tmp");
                try (var out = Files.newBufferedWriter(temporary, java.nio.charset.StandardCharsets.UTF_8)) {
                    out.write(header);
                    out.write('\n');
                    countTotal = rows;
                    countUnit = "rows";
                    for (long r = 0; r < rows; r++) {
                        if (loopDone < 0) {
                            countDone = r;
                            tick();
                        }
                        vmHost.clock().advance(every);
                        List<Long> row = new ArrayList<>();
                        row.add(vmHost.trueNanos());
                        for (Statement source : s.sources()) {
                            row.add(perform(source).values().getFirst());
                        }
                        out.write(row.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")));
                        out.write('\n');
                        if (first == null) {
                            first = row;
                        }
                        last = row;
                    }
                } finally {
                    countDone = -1;
                }
                try {
                    Files.setPosixFilePermissions(temporary,
                            java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                } catch (UnsupportedOperationException e) {
                    // Not a POSIX file system: the temporary file's permissions stay.
                }
                try {
                    Files.move(temporary, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                    Files.move(temporary, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                temporary = null;
            } catch (IOException e) {
                throw new ScenarioRuntimeException("sample: cannot write " + s.file() + ": " + e.getMessage());
            } finally {
                if (temporary != null) {
                    try {
                        Files.deleteIfExists(temporary);
                    } catch (IOException e) {
                        // Best effort: the temporary file of a failed write.
                    }
                }
            }
            List<Long> values = new ArrayList<>();
            values.add(rows);
            values.addAll(first);
            values.addAll(last);
            return new Outcome(Status.OK, Map.of(), values, String.format("%s row%s to %s (%s); first %s; last %s",
                    fmt(rows), rows == 1 ? "" : "s", s.file(), header, csv(first), csv(last)));
        }

        private static String csv(List<Long> row) {
            return row.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","));
        }

        private Outcome pause() {
            clockDevice.stop();
            KvmClockDevice.State state = clockDevice.save();
            pausedLine = current.line();
            pausedAtNanos = vmHost.monotonicNanos();
            return Outcome.ok(String.format("VM paused: kvmclock frozen at %s ns (KVM_GET_CLOCK%s)", fmt(state.clock()),
                    state.clockIsReliable() ? ", TSC_STABLE: consistent with every pvclock page" : ", no TSC_STABLE"));
        }

        private Outcome resume() {
            long frozen = clockDevice.save().clock();
            long flagged = kvm().vcpus().stream().filter(KvmVcpu::pvclockEnabled).count();
            clockDevice.resume();
            long paused = vmHost.monotonicNanos() - pausedAtNanos;
            pausedLine = 0;
            pausedAtNanos = -1;
            return Outcome.ok(String.format("VM running: KVM_SET_CLOCK %s, KVM_KVMCLOCK_CTRL on %d vCPU%s;"
                    + " the %s ns paused are not in kvmclock", fmt(frozen), flagged, flagged == 1 ? "" : "s",
                    fmt(paused)));
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
            return bind(targets, labels, values, (i, v) -> hex ? hex32or64(v) : fmt(v));
        }

        /** As {@link #bind(List, List, List, boolean)}, with each value shown by {@code show(index, value)}. */
        private Outcome bind(List<String> targets, List<String> labels, List<Long> values, Shown show) {
            Map<String, Long> bound = new LinkedHashMap<>();
            List<String> shown = new ArrayList<>();
            List<String> extra = new ArrayList<>();
            for (int i = 0; i < values.size(); i++) {
                String text = show.text(i, values.get(i));
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
                // Say by how much, with or without a tolerance; exactly, even past 64 bits (the
                // difference of two longs needs 65).
                java.math.BigInteger difference = java.math.BigInteger.valueOf(values.get(0))
                        .subtract(java.math.BigInteger.valueOf(values.get(1)));
                shown.append("; differ by ").append(String.format(Locale.ROOT, "%,d", difference));
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
            if (snapshots != null) {
                try (var files = Files.list(snapshots)) {
                    for (Path f : files.toList()) {
                        Files.deleteIfExists(f);
                    }
                    Files.deleteIfExists(snapshots);
                } catch (IOException e) {
                    // Best effort: a temporary directory left behind is not an error of the run.
                }
            }
        }
    }

    /** How a step shows its value number {@code index}. */
    @FunctionalInterface
    private interface Shown {
        String text(int index, long value);
    }

    /** Most kvmclock-sync reads a step may ask of each vCPU (a read is a few dozen instructions). */
    static final long MAX_KVMCLOCK_READS = 10_000_000;

    /** struct kvm_clock_data flags, e.g. "0xe (TSC_STABLE|REALTIME|HOST_TSC)". */
    static String clockFlags(long flags) {
        return flagNames(flags, List.of("", "TSC_STABLE", "REALTIME", "HOST_TSC"));
    }

    /** pvclock page flags, e.g. "0x3 (TSC_STABLE|GUEST_STOPPED)". */
    static String pvclockFlags(long flags) {
        return flagNames(flags, List.of("TSC_STABLE", "GUEST_STOPPED", "COUNTS_FROM_ZERO"));
    }

    private static String flagNames(long flags, List<String> bits) {
        List<String> names = new ArrayList<>();
        long rest = flags;
        for (int i = 0; i < bits.size(); i++) {
            if (!bits.get(i).isEmpty() && (flags & (1L << i)) != 0) {
                names.add(bits.get(i));
                rest &= ~(1L << i);
            }
        }
        if (rest != 0) {
            names.add(hex(rest));
        }
        return hex(flags) + (names.isEmpty() ? "" : " (" + String.join("|", names) + ")");
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
