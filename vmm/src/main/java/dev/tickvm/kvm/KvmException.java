package dev.tickvm.kvm;

/** A control-plane call failed the way the KVM ioctl would: with this errno. */
public final class KvmException extends RuntimeException {
    private final Errno errno;

    public KvmException(Errno errno, String message) {
        super(errno + ": " + message);
        this.errno = errno;
    }

    public Errno errno() {
        return errno;
    }
}
