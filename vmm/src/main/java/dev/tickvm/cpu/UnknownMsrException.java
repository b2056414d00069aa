package dev.tickvm.cpu;

/** A guest touched an MSR that does not exist or wrote a value it refuses: #GP on real KVM. */
public final class UnknownMsrException extends RuntimeException {
    private final int msr;

    public UnknownMsrException(int msr, String why) {
        super(String.format("MSR 0x%x: %s", msr & 0xffffffffL, why));
        this.msr = msr;
    }

    public int msr() {
        return msr;
    }
}
