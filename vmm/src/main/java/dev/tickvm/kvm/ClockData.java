package dev.tickvm.kvm;

/**
 * struct kvm_clock_data, as KVM_GET_CLOCK returns it and KVM_SET_CLOCK takes it.
 *
 * @param clock    kvmclock nanoseconds
 * @param flags    {@link #TSC_STABLE}, {@link #REALTIME}, {@link #HOST_TSC}
 * @param realtime host wall-clock ns at the same instant (valid with REALTIME)
 * @param hostTsc  host TSC at the same instant (valid with HOST_TSC)
 */
public record ClockData(long clock, int flags, long realtime, long hostTsc) {
    /** The master clock is in use: every vCPU's kvmclock derives from one host reference. */
    public static final int TSC_STABLE = 2;
    public static final int REALTIME = 1 << 2;
    public static final int HOST_TSC = 1 << 3;

    /** KVM_SET_CLOCK input with just a clock value (flags 0), as QEMU's "stop" restore uses. */
    public static ClockData of(long clock) {
        return new ClockData(clock, 0, 0, 0);
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }
}
