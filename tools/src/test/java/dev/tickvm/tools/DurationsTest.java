package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** One rule for every duration printed: ns, us, ms or s by size, up to three decimals. */
class DurationsTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0                   | 0 ns",
        "1                   | 1 ns",
        "999                 | 999 ns",
        "1000                | 1 us",
        "1001                | 1.001 us",
        "2160                | 2.16 us",
        "999999              | 999.999 us",
        "1000000             | 1 ms",
        "2001500             | 2.002 ms",
        "16600000            | 16.6 ms",
        "999999499           | 999.999 ms",
        "999999500           | 1 s",
        "999999999           | 1 s",
        "1000000000          | 1 s",
        "10000000000         | 10 s",
        "1234567890          | 1.235 s",
        "3600000000000       | 3,600 s",
        "1234567890123       | 1,234.568 s",
        "-2500               | -2.5 us"})
    void picksTheUnitBySizeWithUpToThreeDecimals(long nanos, String expected) {
        assertEquals(expected, Durations.format(nanos));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0       | trapped instruction | 0 trapped instructions",
        "1       | trapped instruction | 1 trapped instruction",
        "2       | trapped instruction | 2 trapped instructions",
        "1       | vCPU                | 1 vCPU",
        "8       | vCPU                | 8 vCPUs",
        "1000000 | block               | 1,000,000 blocks"})
    void countsSayTheNounInTheSingularOnlyForOne(long n, String noun, String expected) {
        assertEquals(expected, Words.count(n, noun));
    }
}
