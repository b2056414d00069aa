package dev.tickvm.cpu;

/** A decoded trapping instruction and its length in bytes, prefixes included. */
public record Trap(TrapKind kind, int length) {
}
