package dev.tickvm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.HexFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class TrapDecoderTest {

    private static Trap decode(String hex) {
        return TrapDecoder.decode(HexFormat.of().parseHex(hex.replace(" ", "")));
    }

    @ParameterizedTest(name = "{0} -> {1}/{2}")
    @CsvSource({
        "0f31,      RDTSC,  2",
        "0f01f9,    RDTSCP, 3",
        "0f32,      RDMSR,  2",
        "0f30,      WRMSR,  2",
        "f4,        HLT,    1",
    })
    void decodesEachTimeInstructionWithItsExactLength(String hex, TrapKind kind, int length) {
        assertEquals(new Trap(kind, length), decode(hex));
    }

    @Test
    void trailingBytesAfterTheInstructionDoNotChangeItsLength() {
        assertEquals(new Trap(TrapKind.RDTSC, 2), decode("0f31 48c1e220 4809d0"));
        assertEquals(new Trap(TrapKind.HLT, 1), decode("f4 ebfd"));
    }

    @ParameterizedTest(name = "{0} -> {1}/{2}")
    @CsvSource({
        "480f31,         RDTSC,  3",   // REX.W
        "410f01f9,       RDTSCP, 4",   // REX.B
        "660f31,         RDTSC,  3",   // operand size
        "2e0f31,         RDTSC,  3",   // CS segment
        "640f32,         RDMSR,  3",   // FS segment
        "662e480f31,     RDTSC,  5",   // stacked legacy prefixes, then REX
        "f3f2670f30,     WRMSR,  5",
        "2e3e262636f4,   HLT,    6",
        "48480f31,       RDTSC,  4",   // a redundant REX: only the last, before 0F, counts
        "48660f31,       RDTSC,  4",   // a REX before a legacy prefix is ignored
        "4041420f32,     RDMSR,  5",
    })
    void prefixesCountTowardsTheLength(String hex, TrapKind kind, int length) {
        assertEquals(new Trap(kind, length), decode(hex));
    }

    @ParameterizedTest
    @ValueSource(strings = {"f00f31", "66f00f31", "f0480f31", "f0f4", "f00f01f9"})
    void lockPrefixMakesItNotATrap(String hex) {
        assertNull(decode(hex));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "0f01f8",   // SWAPGS
        "0f01d0",   // XGETBV
        "0f0b",     // UD2
        "0f33",     // RDPMC
        "cd80",     // INT 0x80
        "90",       // NOP
        "48",       // REX alone
    })
    void otherInstructionsAreNotTraps(String hex) {
        assertNull(decode(hex));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0f", "0f01", "66", "482e", "660f"})
    void truncatedInputIsNotATrap(String hex) {
        assertNull(decode(hex));
    }

    @Test
    void instructionOfExactly15BytesIsDecoded() {
        assertEquals(new Trap(TrapKind.RDTSC, 15), decode("66".repeat(13) + "0f31"));
        assertEquals(new Trap(TrapKind.RDTSCP, 15), decode("2e".repeat(11) + "48" + "0f01f9"));
        assertEquals(new Trap(TrapKind.HLT, 15), decode("66".repeat(14) + "f4"));
    }

    @Test
    void instructionLongerThan15BytesIsNotDecoded() {
        assertEquals(15, TrapDecoder.MAX_INSTRUCTION_LENGTH);
        assertNull(decode("66".repeat(14) + "0f31"));
        assertNull(decode("66".repeat(13) + "0f01f9"));
        assertNull(decode("66".repeat(15) + "f4"));
        assertNull(decode("66".repeat(40) + "0f31"));
    }
}
