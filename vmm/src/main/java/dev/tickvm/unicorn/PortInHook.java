package dev.tickvm.unicorn;

/** Called for IN; returns the value the guest reads (size is 1, 2 or 4 bytes). */
@FunctionalInterface
public interface PortInHook {
    int onIn(int port, int size);
}
