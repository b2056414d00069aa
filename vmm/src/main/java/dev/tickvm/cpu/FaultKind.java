package dev.tickvm.cpu;

/** Why a guest could not go on. The guest cannot handle its own faults under Unicorn. */
public enum FaultKind {
    INVALID_OPCODE("invalid instruction"),
    UNMAPPED_READ("read of unmapped memory"),
    UNMAPPED_WRITE("write to unmapped memory"),
    UNMAPPED_FETCH("instruction fetch from unmapped memory"),
    PROTECTION("memory protection violation"),
    UNALIGNED("unaligned access"),
    UNKNOWN_MSR("access to a nonexistent MSR (#GP)"),
    CPU_EXCEPTION("CPU exception");

    private final String description;

    FaultKind(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
