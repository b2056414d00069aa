package dev.tickvm.memory;

/** An access from the VMM to guest memory outside guest RAM. */
public final class GuestMemoryException extends IndexOutOfBoundsException {
    public GuestMemoryException(long address, long length, long ramSize) {
        super(String.format("guest access of %d byte%s at 0x%x is outside guest RAM (0x0-0x%x)", length,
                length == 1 ? "" : "s", address, ramSize));
    }
}
