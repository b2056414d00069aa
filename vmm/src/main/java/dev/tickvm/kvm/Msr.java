package dev.tickvm.kvm;

/** MSR numbers of the time MSRs KVM emulates (docs/TIME.md section 4). */
public final class Msr {
    public static final int IA32_TSC = 0x10;
    public static final int IA32_TSC_ADJUST = 0x3b;
    public static final int TSC_AUX = 0xc0000103;
    public static final int KVM_WALL_CLOCK = 0x11;
    public static final int KVM_SYSTEM_TIME = 0x12;
    public static final int KVM_WALL_CLOCK_NEW = 0x4b564d00;
    public static final int KVM_SYSTEM_TIME_NEW = 0x4b564d01;

    private Msr() {
    }

    /** True for the MSRs this kvm layer emulates. */
    public static boolean isTimeMsr(int msr) {
        return switch (msr) {
            case IA32_TSC, IA32_TSC_ADJUST, TSC_AUX, KVM_WALL_CLOCK, KVM_SYSTEM_TIME, KVM_WALL_CLOCK_NEW,
                 KVM_SYSTEM_TIME_NEW -> true;
            default -> false;
        };
    }

    /** A name for messages, e.g. "IA32_TSC (0x10)". */
    public static String name(int msr) {
        return shortName(msr) + String.format(" (0x%x)", msr & 0xffff_ffffL);
    }

    /** The MSR's name without its index, e.g. "IA32_TSC"; "MSR" for one tickvm does not know. */
    public static String shortName(int msr) {
        return switch (msr) {
            case IA32_TSC -> "IA32_TSC";
            case IA32_TSC_ADJUST -> "IA32_TSC_ADJUST";
            case TSC_AUX -> "TSC_AUX";
            case KVM_WALL_CLOCK -> "MSR_KVM_WALL_CLOCK";
            case KVM_SYSTEM_TIME -> "MSR_KVM_SYSTEM_TIME";
            case KVM_WALL_CLOCK_NEW -> "MSR_KVM_WALL_CLOCK_NEW";
            case KVM_SYSTEM_TIME_NEW -> "MSR_KVM_SYSTEM_TIME_NEW";
            default -> "MSR";
        };
    }
}
