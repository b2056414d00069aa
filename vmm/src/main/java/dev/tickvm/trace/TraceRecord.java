package dev.tickvm.trace;

/**
 * An event with where and when it happened: the host's CLOCK_MONOTONIC and true time (ns), and
 * the vCPU it happened on, or {@link #VM} for the VM-wide ioctls and works.
 */
public record TraceRecord(long hostNanos, long trueNanos, int vcpu, TraceEvent event) {
    /** The {@code vcpu} of an event that belongs to the VM, not to one vCPU. */
    public static final int VM = -1;

    /**
     * The line, in the format of docs/TRACE.md:
     * {@code TASK [CPU] HOST: NAME: FIELDS true=TRUE}, e.g.
     * <pre>    vcpu-0 [000]     1.000000054: kvm_write_tsc_offset: vcpu=0 prev=0 next=-180000000000 true=1.000000054</pre>
     * TASK is {@code vcpu-N} or {@code kvm}, right-aligned in 10 columns; CPU the vCPU in three
     * digits or {@code ---}; HOST and TRUE are seconds with nine decimals, HOST right-aligned in 15
     * columns.
     */
    public String format() {
        StringBuilder sb = new StringBuilder(128);
        String task = vcpu == VM ? "kvm" : "vcpu-" + vcpu;
        sb.repeat(' ', Math.max(0, 10 - task.length())).append(task).append(" [");
        if (vcpu == VM) {
            sb.append("---");
        } else {
            String cpu = Integer.toString(vcpu);
            sb.repeat('0', Math.max(0, 3 - cpu.length())).append(cpu);
        }
        sb.append("] ");
        String host = seconds(hostNanos);
        sb.repeat(' ', Math.max(0, 15 - host.length())).append(host).append(": ").append(event.name()).append(": ");
        event.appendFields(sb);
        sb.append(" true=").append(seconds(trueNanos));
        return sb.toString();
    }

    /** ns as seconds with nine decimals, e.g. 1000000054 -> "1.000000054", -5 -> "-0.000000005". */
    public static String seconds(long nanos) {
        String sign = nanos < 0 ? "-" : "";
        long abs = Math.abs(nanos);
        long s = abs / 1_000_000_000L;
        long ns = abs % 1_000_000_000L;
        String frac = Long.toString(ns);
        return sign + s + "." + "0".repeat(9 - frac.length()) + frac;
    }

    @Override
    public String toString() {
        return format();
    }
}
