package dev.tickvm.unicorn;

/**
 * Called for CPUID. Read EAX/ECX and write EAX..EDX through the engine; return true to skip
 * Unicorn's own CPUID, false to let it run.
 */
@FunctionalInterface
public interface CpuidHook {
    boolean onCpuid();
}
