package dev.tickvm.kvm;

/**
 * The clock requests KVM queues on a vCPU (kvm_make_request) and services the next time that
 * vCPU enters the guest, in vcpu_enter_guest's order, which is this enum's order (docs/TIME.md
 * section 10). KVM_REQ_MCLOCK_INPROGRESS is not here: it only keeps other vCPUs out of the guest
 * while kvm_start/end_pvclock_update runs, and tickvm's vCPUs never run while the kvm layer does.
 */
public enum KvmRequest {
    /** kvm_update_masterclock: a new master reference, then CLOCK_UPDATE on every vCPU. */
    MASTERCLOCK_UPDATE(4),
    /** kvm_gen_kvmclock_update: CLOCK_UPDATE here now, on every vCPU 100 ms later. */
    GLOBAL_CLOCK_UPDATE(2),
    /** kvm_guest_time_update: TSC catch-up and this vCPU's pvclock page. */
    CLOCK_UPDATE(1);

    /** The bit a scenario sees in {@code get-vcpu N pending-requests} (tickvm's, not KVM's numbers). */
    public final int bit;

    KvmRequest(int bit) {
        this.bit = bit;
    }

    /** Names of the requests in a mask, in service order, e.g. "MASTERCLOCK_UPDATE|CLOCK_UPDATE", or "none". */
    public static String describe(int mask) {
        StringBuilder sb = new StringBuilder();
        for (KvmRequest r : values()) {
            if ((mask & r.bit) != 0) {
                sb.append(sb.isEmpty() ? "" : "|").append(r.name());
            }
        }
        return sb.isEmpty() ? "none" : sb.toString();
    }
}
