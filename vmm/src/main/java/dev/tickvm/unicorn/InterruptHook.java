package dev.tickvm.unicorn;

/** Called when the CPU raises an exception or interrupt (UC_HOOK_INTR); intno is the vector. */
@FunctionalInterface
public interface InterruptHook {
    void onInterrupt(int vector);
}
