package dev.tickvm.unicorn;

/** Called for OUT with the value written (size is 1, 2 or 4 bytes). */
@FunctionalInterface
public interface PortOutHook {
    void onOut(int port, int size, int value);
}
