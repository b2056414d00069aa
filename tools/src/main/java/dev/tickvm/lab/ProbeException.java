package dev.tickvm.lab;

/** A probe command did not complete: the guest faulted, or the VM ended or hung. */
public final class ProbeException extends RuntimeException {
    public ProbeException(String message) {
        super(message);
    }
}
