package dev.tickvm.scenario;

import dev.tickvm.kvm.Errno;
import dev.tickvm.kvm.PvclockMode;
import dev.tickvm.lab.Lab;
import java.util.List;
import java.util.Map;

/**
 * One parsed statement of a scenario file: a closed set, run by {@link ScenarioRunner}'s
 * exhaustive switch. docs/SCENARIOS.md describes each one.
 */
sealed interface Statement {

    /** A vCPU operand: an index, or every vCPU ({@link #ALL}). */
    record Cpu(int index) {
        static final Cpu ALL = new Cpu(-1);

        boolean all() {
            return index < 0;
        }

        @Override
        public String toString() {
            return all() ? "all" : Integer.toString(index);
        }
    }

    /** {@code host NAME key=value...}: a simulated host with its own clocks on the scenario's true time. */
    record DefineHost(String name, Map<String, Expr> settings) implements Statement {
    }

    /**
     * {@code vm [host=NAME] [vcpus=N] [tsc-khz=K] [quantum=BLOCKS] [boot=yes|no]}: the KVM VM and
     * its probe vCPUs. {@code tscKhz} and {@code quantum} are null when not given; with
     * {@code boot} false no vCPU has entered the guest yet.
     */
    record CreateVm(String host, Expr vcpus, Expr tscKhz, Expr quantum, boolean boot) implements Statement {
    }

    /** {@code run DURATION}: that much true time passes with the guest running (its watches). */
    record RunGuest(Expr nanos) implements Statement {
    }

    /** {@code migrate to=HOST strategy=S downtime=D stagger=T}: save, downtime, restore on HOST. */
    record Migrate(String host, String strategy, Expr downtime, Expr stagger) implements Statement {
    }

    /** {@code save FILE}: the VM to a snapshot file; it then runs on. */
    record Save(String file) implements Statement {
    }

    /** {@code restore FILE [host=NAME] [strategy=S]}: the VM replaced by the one saved, on that host (null: the VM's). */
    record Restore(String file, String host, String strategy) implements Statement {
    }

    /** {@code set-host [NAME] ntp-offset=NS ntp-slew-ppb=PPB}: NTP errors from now on; NAME null is the VM's host. */
    record SetHost(String host, Map<String, Expr> settings) implements Statement {
    }

    /** {@code advance DURATION}: moves the VM host's virtual clock forward. */
    record Advance(Expr nanos) implements Statement {
    }

    /** {@code host-tsc -> h}, {@code host-ns -> n} or {@code host-realtime -> r}: {@code what} is tsc, ns, realtime. */
    record HostRead(String what, List<String> targets) implements Statement {
    }

    /**
     * {@code set-vm tsc-khz K} (KVM_SET_TSC_KHZ on the VM fd; {@code mode} null) or
     * {@code set-vm pvclock-mode kvm-compat|exact} ({@code value} null).
     */
    record SetVm(String key, Expr value, PvclockMode mode) implements Statement {
    }

    /** {@code get-vm KEY -> v}: KVM_GET_TSC_KHZ on the VM, KVM's TSC-matching state, kvmclock's state. */
    record GetVm(String key, List<String> targets) implements Statement {
    }

    /** {@code get-clock -> clock [flags realtime host_tsc]}: KVM_GET_CLOCK. */
    record GetClock(List<String> targets) implements Statement {
    }

    /**
     * {@code set-clock CLOCK [realtime=R] [flags=F]}: KVM_SET_CLOCK. {@code realtime} and
     * {@code flags} are null when not given; the flags are then REALTIME if a realtime is given,
     * else 0.
     */
    record SetClock(Expr clock, Expr realtime, Expr flags) implements Statement {
    }

    /** {@code get-pvclock CPU -> version tsc_timestamp system_time mul shift flags}: the page in guest memory. */
    record GetPvclock(Cpu cpu, List<String> targets) implements Statement {
    }

    /** {@code enable-kvmclock CPU|all}: the guest writes MSR_KVM_SYSTEM_TIME_NEW, one vCPU after the other. */
    record EnableKvmclock(Cpu cpu) implements Statement {
    }

    /** {@code kvmclock-ctrl CPU|all}: KVM_KVMCLOCK_CTRL (PVCLOCK_GUEST_STOPPED on the vCPU's page). */
    record KvmclockCtrl(Cpu cpu) implements Statement {
    }

    /**
     * {@code pause} ({@code true}) or {@code resume} ({@code false}): the VM stops or runs again,
     * through the kvmclock device (QEMU's stop/cont: KVM_GET_CLOCK kept while stopped,
     * KVM_SET_CLOCK and KVM_KVMCLOCK_CTRL on resume).
     */
    record RunState(boolean pause) implements Statement {
    }

    /** The vCPU ioctls that write: KVM_SET_TSC_KHZ, KVM_SET_MSRS, KVM_SET_DEVICE_ATTR. */
    enum Setter {
        TSC_KHZ, MSR, ATTR
    }

    /** {@code set-tsc-khz CPU K}, {@code set-msr CPU MSR V}, {@code set-attr CPU ATTR V}. */
    record SetVcpu(Setter what, Cpu cpu, int selector, Expr value) implements Statement {
    }

    /** The vCPU reads: KVM_GET_TSC_KHZ, KVM_GET_MSRS, KVM_GET_DEVICE_ATTR, and KVM-internal state. */
    enum Getter {
        TSC_KHZ, MSR, ATTR, VCPU_STATE
    }

    /**
     * {@code get-tsc-khz CPU -> v}, {@code get-msr CPU MSR -> v}, {@code get-attr CPU ATTR -> v},
     * {@code get-vcpu CPU KEY -> v}; {@code key} is get-vcpu's.
     */
    record GetVcpu(Getter what, Cpu cpu, int selector, String key, List<String> targets) implements Statement {
    }

    /** The probe guest's commands (guest-images/src/main/guest/probe.S), with what each gives. */
    enum GuestOp {
        RDTSC("rdtsc", 0, 0, "tsc"),
        RDTSCP("rdtscp", 0, 0, "tsc", "aux"),
        RDMSR("rdmsr", 0, 0, "value"),
        WRMSR("wrmsr", 1, 1),
        CPUID("cpuid", 1, 2, "eax", "ebx", "ecx", "edx"),
        SPIN("spin", 1, 1, "first", "last"),
        BATCH("batch", 1, 1, "count", "min", "max", "regressions"),
        SYNC("sync", 1, 1, "regressions", "iterations", "largest"),
        KVMCLOCK("kvmclock", 0, 0, "ns", "retries", "flags", "clamped", "tsc"),
        WALLCLOCK("wallclock", 0, 0, "sec", "nsec", "version", "retries"),
        KVMCLOCK_SYNC("kvmclock-sync", 1, 1, "regressions", "clamps", "largest", "retries"),
        /** The writer vCPU is parsed as a CPU operand before the one argument, the delay in cycles. */
        TORN_KVMCLOCK("torn-kvmclock", 1, 1, "ns", "retries", "flags", "clamped", "tsc"),
        /** The optional argument is the jump threshold in ns; the mode is null to watch the TSC only. */
        WATCH_START("watch-start", 0, 1),
        WATCH_STOP("watch-stop", 0, 0, "tsc_jumps", "tsc_backs", "tsc_max_step", "tsc_max_back", "kvmclock_jumps",
                "kvmclock_backs", "kvmclock_max_step", "kvmclock_max_back", "rounds");

        final String word;
        final int minArgs;
        final int maxArgs;
        final List<String> results;

        GuestOp(String word, int minArgs, int maxArgs, String... results) {
            this.word = word;
            this.minArgs = minArgs;
            this.maxArgs = maxArgs;
            this.results = List.of(results);
        }
    }

    /**
     * {@code guest CPU OP [MSR] [WRITER] [ARGS] [MODE] [-> names]}. {@code msr} is used by rdmsr
     * and wrmsr; {@code mode} (how the guest treats TSC_STABLE) by kvmclock, kvmclock-sync,
     * torn-kvmclock and watch-start (null there: the TSC only), null for the others; {@code writer}
     * by torn-kvmclock, null for the others.
     */
    record Guest(GuestOp op, Cpu cpu, int msr, Lab.ReadMode mode, Cpu writer, List<Expr> args, List<String> targets)
            implements Statement {
    }

    /**
     * {@code repeat N {} ... {@code }}} ({@code variable}, {@code from}, {@code to} null) or
     * {@code for NAME in A..B {} ... {@code }}}, A to B inclusive ({@code count} null); the body is
     * the steps on the lines up to the closing '}' line.
     */
    record Loop(String variable, Expr count, Expr from, Expr to, List<Step> body) implements Statement {
        public Loop {
            body = List.copyOf(body);
        }
    }

    /**
     * {@code sample SOURCE[, SOURCE...] every DURATION for DURATION -> FILE}: the host's clock
     * advanced by {@code every} again and again, each source read after each advance, one CSV row
     * each. A source is a host-side read with no targets: a {@link HostRead}, {@link GetClock}
     * (its clock value) or a one-vCPU {@link GetVcpu}; {@code column} is its CSV header.
     */
    record Sample(List<String> columns, List<Statement> sources, Expr every, Expr duration, String file)
            implements Statement {
        public Sample {
            columns = List.copyOf(columns);
            sources = List.copyOf(sources);
        }
    }

    /** {@code let NAME = EXPR}. */
    record Let(String name, Expr value) implements Statement {
    }

    /**
     * {@code expect A OP B [OP C ...] [+- T]}: every adjacent pair must compare true; with a
     * tolerance (one == or != only), equality means {@code |A - B| <= T}.
     */
    record Expect(List<Expr> operands, List<String> ops, Expr tolerance) implements Statement {
    }

    /** {@code expect-error ERRNO|fault STEP}: the step must fail that way. {@code errno} null means a guest fault. */
    record ExpectError(Errno errno, Step step) implements Statement {
    }

    /** {@code print EXPR[:x] [, EXPR[:x] ...]}: {@code hex} holds the indexes of the values shown in hex. */
    record Print(List<Expr> values, List<String> texts, java.util.Set<Integer> hex) implements Statement {
    }

    /**
     * A statement where the file has it.
     *
     * @param number 1-based index among the file's statements
     * @param line   1-based line
     * @param text   the statement as written, without comment or surrounding blanks
     * @param kind   its command word, e.g. "set-msr"
     */
    record Step(int number, int line, String text, String kind, Statement statement) {
    }
}
