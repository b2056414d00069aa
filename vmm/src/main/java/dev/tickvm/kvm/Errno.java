package dev.tickvm.kvm;

/** The errno values KVM's ioctls return, for the errors tickvm's control plane can give. */
public enum Errno {
    ENOENT(2), ENXIO(6), EFAULT(14), EEXIST(17), EINVAL(22), ERANGE(34);

    private final int value;

    Errno(int value) {
        this.value = value;
    }

    /** The positive errno number (an ioctl returns its negation). */
    public int value() {
        return value;
    }
}
