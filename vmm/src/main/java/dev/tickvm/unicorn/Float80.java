package dev.tickvm.unicorn;

/**
 * One x87 register, the 80-bit extended format as it sits in memory (FSAVE, FXSAVE, and the 10
 * bytes Unicorn reads): a 64-bit significand with its explicit integer bit, then sign and 15-bit
 * exponent. Kept as bits, never as a double, so every value (NaN payloads, denormals, unnormals)
 * survives a save and restore.
 *
 * @param significand  bytes 0-7
 * @param signExponent bytes 8-9: sign in bit 15, biased exponent in bits 0-14
 */
public record Float80(long significand, int signExponent) {
    public static final Float80 ZERO = new Float80(0, 0);

    public Float80 {
        if ((signExponent & ~0xffff) != 0) {
            throw new IllegalArgumentException(
                    String.format("sign and exponent 0x%x do not fit 16 bits", signExponent));
        }
    }
}
