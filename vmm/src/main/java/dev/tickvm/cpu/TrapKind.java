package dev.tickvm.cpu;

/** The instructions that fault at CPL3 with CR4.TSD set and that the VMM emulates. */
public enum TrapKind {
    RDTSC, RDTSCP, RDMSR, WRMSR, HLT
}
