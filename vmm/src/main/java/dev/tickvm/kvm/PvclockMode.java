package dev.tickvm.kvm;

/** How the pvclock's TSC-to-ns scale is derived from the guest TSC frequency (docs/TIME.md section 3). */
public enum PvclockMode {
    /**
     * As KVM does: from the host's tsc_khz scaled by the TSC ratio, in whole kHz. A guest whose
     * TSC really runs at 2,499,999,999.99 Hz is converted as if it ran at 2,499,999,000 Hz.
     */
    KVM_COMPAT,
    /**
     * From the guest TSC's true frequency in Hz (the host's true Hz scaled by the ratio); and
     * KVM_GET_CLOCK extrapolates with the host's true Hz, so the VMM's view and the guest's agree.
     */
    EXACT
}
