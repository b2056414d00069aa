package dev.tickvm.lab;

/** The probe guest's commands (guest-images/src/main/guest/probe.S), by their mailbox numbers. */
public enum ProbeCommand {
    RDTSC(1), RDTSCP(2), RDMSR(3), WRMSR(4), CPUID(5), SPIN(6), BATCH(7), SYNC(8), KVMCLOCK(9), WALLCLOCK(10),
    KVMCLOCK_SYNC(11), STORE(12), WATCH(13), STOP(15);

    final int code;

    ProbeCommand(int code) {
        this.code = code;
    }
}
