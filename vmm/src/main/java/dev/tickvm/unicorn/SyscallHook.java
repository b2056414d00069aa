package dev.tickvm.unicorn;

/**
 * Called for SYSCALL, which Unicorn otherwise runs as a no-op. RIP is at the instruction while
 * the hook runs; stop the engine to keep the guest from going on past it.
 */
@FunctionalInterface
public interface SyscallHook {
    void onSyscall();
}
