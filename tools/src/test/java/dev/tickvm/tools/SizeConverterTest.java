package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class SizeConverterTest {
    private final SizeConverter converter = new SizeConverter();

    @ParameterizedTest
    @CsvSource({
        "16M, 16777216",
        "64MiB, 67108864",
        "1G, 1073741824",
        "4096K, 4194304",
        "2097152, 2097152",
        "512B, 512",
        "4GiB, 4294967296",
        "8KiB, 8192",
        // lower case
        "16m, 16777216",
        "64mib, 67108864",
        "1g, 1073741824",
        "4096k, 4194304",
        // blanks around the number and the unit
        "' 16M ', 16777216",
        "'16 M', 16777216",
    })
    void parsesBinaryUnits(String text, long bytes) {
        assertEquals(bytes, converter.convert(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "1X", "", "M", "MiB", "1.5G", "16MB", "0x100000", "16 MiB extra",
        "99999999999G", "9223372036854775808"})
    void rejectsWhatIsNotASize(String text) {
        CommandLine.TypeConversionException e = assertThrows(CommandLine.TypeConversionException.class,
                () -> converter.convert(text));
        assertEquals("'" + text + "' is not a size (examples: 16M, 64MiB, 1G)", e.getMessage());
    }
}
