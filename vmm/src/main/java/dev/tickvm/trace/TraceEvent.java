package dev.tickvm.trace;

/**
 * One event of the time trace (docs/TRACE.md). Each kind is named after the Linux kvm tracepoint
 * it stands for where one exists ({@code kvm_write_tsc_offset}, {@code kvm_pvclock_update}, ...);
 * tickvm's own are {@code kvm_request}, {@code kvm_request_serviced}, {@code tickvm_trap} and
 * {@code tickvm_exit}. The fields print as {@code key=value} pairs, integers in decimal unless the
 * key says otherwise (MSR indexes, values and flags in hex).
 */
public sealed interface TraceEvent {

    /** Every event name, in the order of docs/TRACE.md (what a trace filter may name). */
    java.util.List<String> NAMES = java.util.List.of("kvm_write_tsc_offset", "kvm_update_master_clock", "kvm_track_tsc",
            "kvm_pvclock_update", "kvm_msr", "kvm_set_clock", "kvm_get_clock", "kvm_request", "kvm_request_serviced",
            "tickvm_trap", "tickvm_exit");

    /** The event's name, e.g. {@code kvm_write_tsc_offset}. */
    String name();

    /** Appends the fields, {@code key=value} separated by single spaces. */
    void appendFields(StringBuilder sb);

    /** The fields as text. */
    default String fields() {
        StringBuilder sb = new StringBuilder();
        appendFields(sb);
        return sb.toString();
    }

    private static String bit(boolean b) {
        return b ? "1" : "0";
    }

    /** kvm_vcpu_write_tsc_offset: every write of a vCPU's TSC offset (signed). */
    record WriteTscOffset(int vcpu, long prev, long next) implements TraceEvent {
        @Override
        public String name() {
            return "kvm_write_tsc_offset";
        }

        @Override
        public void appendFields(StringBuilder sb) {
            sb.append("vcpu=").append(vcpu).append(" prev=").append(prev).append(" next=").append(next);
        }
    }

    /**
     * pvclock_update_vm_gtod_copy: the master clock decision, with its inputs (a TSC-based host
     * clocksource, every vCPU matched in the current TSC generation).
     */
    record UpdateMasterClock(boolean useMasterClock, boolean hostClocksourceTsc, boolean vcpusMatched)
            implements TraceEvent {
        @Override
        public String name() {
            return "kvm_update_master_clock";
        }

        @Override
        public void appendFields(StringBuilder sb) {
            sb.append("use_master_clock=").append(bit(useMasterClock)).append(" host_clocksource_tsc=")
                    .append(bit(hostClocksourceTsc)).append(" vcpus_matched=").append(bit(vcpusMatched));
        }
    }

    /** kvm_track_tsc_matching, after a TSC write by {@code vcpu}. */
    record TrackTsc(int vcpu, int nrMatched, int online, boolean useMasterClock, boolean hostClocksourceTsc)
            implements TraceEvent {
        @Override
        public String name() {
            return "kvm_track_tsc";
        }

        @Override
        public void appendFields(StringBuilder sb) {
            sb.append("vcpu=").append(vcpu).append(" nr_matched=").append(nrMatched).append(" online=").append(online)
                    .append(" use_master_clock=").append(bit(useMasterClock)).append(" host_clocksource_tsc=")
                    .append(bit(hostClocksourceTsc));
        }
    }

    /** kvm_setup_guest_pvclock: what was published on a vCPU's pvclock page. */
    record PvclockUpdate(int vcpu, int version, long tscTimestamp, long systemTime, int mul, int shift, int flags)
            implements TraceEvent {
        @Override
        public String name() {
            return "kvm_pvclock_update";
        }

        @Override
        public void appendFields(StringBuilder sb) {
            sb.append("vcpu=").append(vcpu).append(" version=").append(Integer.toUnsignedString(version))
                    .append(" tsc_timestamp=").append(Long.toUnsignedString(tscTimestamp)).append(" system_time=")
                    .append(systemTime).append(" mul=").append(Integer.toUnsignedString(mul)).append(" shift=")
                    .append(shift).append(" flags=0x").append(Integer.toHexString(flags));
        }
    }

    /** kvm_msr: a time MSR read or written, by the guest (an exit) or by the host (KVM_GET/SET_MSRS). */
    record Msr(int vcpu, boolean write, boolean hostInitiated, int index, String msrName, long value)
            implements TraceEvent {
        @Override
        public String name() {
            return "kvm_msr";
        }

        @Override
        public void appendFields(StringBuilder sb) {
            sb.append("vcpu=").append(vcpu).append(write ? " write" : " read").append(hostInitiated ? " host" : " guest")
                    .append(" msr=0x").append(Integer.toHexString(index)).append(" name=").append(msrName)
                    .append(" value=0x").append(Long.toHexString(value));
        }
    }

    /**
     * KVM_SET_CLOCK: the argument ({@code clock}, {@code flags}, {@code realtime}) and the
     * kvmclock it gave ({@code result}, which REALTIME may have moved forward).
     */
    record SetClock(long clock, int flags, long realtime, long result) implements TraceEvent {
        @Override
        public String name() {
            return "kvm_set_clock";
        }

        @Override
        public void appendFields(StringBuilder sb) {
            sb.append("clock=").append(clock).append(" flags=0x").append(Integer.toHexString(flags)).append(" realtime=")
                    .append(realtime).append(" result=").append(result);
        }
    }

    /** KVM_GET_CLOCK's answer. */
    record GetClock(long clock, int flags, long realtime, long hostTsc) implements TraceEvent {
        @Override
        public String name() {
            return "kvm_get_clock";
        }

        @Override
        public void appendFields(StringBuilder sb) {
            sb.append("clock=").append(clock).append(" flags=0x").append(Integer.toHexString(flags)).append(" realtime=")
                    .append(realtime).append(" host_tsc=").append(Long.toUnsignedString(hostTsc));
        }
    }

    /** kvm_make_request: {@code request} queued on {@code vcpu} by the KVM function {@code by}. */
    record Request(int vcpu, String request, String by) implements TraceEvent {
        @Override
        public String name() {
            return "kvm_request";
        }

        @Override
        public void appendFields(StringBuilder sb) {
            sb.append("vcpu=").append(vcpu).append(" req=").append(request).append(" by=").append(by);
        }
    }

    /** vcpu_enter_guest took {@code request} off {@code vcpu}'s queue and is about to service it. */
    record RequestServiced(int vcpu, String request) implements TraceEvent {
        @Override
        public String name() {
            return "kvm_request_serviced";
        }

        @Override
        public void appendFields(StringBuilder sb) {
            sb.append("vcpu=").append(vcpu).append(" req=").append(request);
        }
    }

    /** A trapped time instruction ({@code RDTSC}, {@code RDTSCP}, {@code RDMSR}, {@code WRMSR}, {@code HLT}) at RIP. */
    record Trap(int vcpu, String instruction, long rip) implements TraceEvent {
        @Override
        public String name() {
            return "tickvm_trap";
        }

        @Override
        public void appendFields(StringBuilder sb) {
            sb.append("vcpu=").append(vcpu).append(" insn=").append(instruction).append(" rip=0x")
                    .append(Long.toHexString(rip));
        }
    }

    /**
     * A vCPU's turn ended ({@code Vcpu.run} returned): {@code preempted}, {@code hlt}, {@code io_out}
     * or {@code fault}, with where it resumes.
     */
    record Exit(int vcpu, String reason, long rip) implements TraceEvent {
        @Override
        public String name() {
            return "tickvm_exit";
        }

        @Override
        public void appendFields(StringBuilder sb) {
            sb.append("vcpu=").append(vcpu).append(" reason=").append(reason).append(" rip=0x")
                    .append(Long.toHexString(rip));
        }
    }
}
