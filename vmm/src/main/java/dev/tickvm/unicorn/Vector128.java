package dev.tickvm.unicorn;

/** One 128-bit XMM register as two little-endian quadwords: bits 0-63 and bits 64-127. */
public record Vector128(long low, long high) {
    public static final Vector128 ZERO = new Vector128(0, 0);
}
