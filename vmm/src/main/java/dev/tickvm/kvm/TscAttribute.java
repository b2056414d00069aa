package dev.tickvm.kvm;

/**
 * The vCPU attribute group KVM_VCPU_TSC_CTRL (group 0) and its attributes. TSC_OFFSET is in
 * Linux since 5.16; TSC_VALUE (Amazon) and TSC_SCALE (Woodhouse) are proposals, given numbers
 * here in proposal order.
 */
public final class TscAttribute {
    public static final int GROUP_TSC_CTRL = 0;
    public static final int TSC_OFFSET = 0;
    public static final int TSC_VALUE = 1;
    public static final int TSC_SCALE = 2;

    private TscAttribute() {
    }
}
