package dev.tickvm.tools;

import java.util.Locale;
import picocli.CommandLine;

/** Parses durations in ns: 10s, 500ms, 250us, 100ns, 1_000 (a bare number is ns). */
final class DurationConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT).replace("_", "");
        long unit = 1;
        String digits = v;
        for (String[] suffix : new String[][] {{"ns", "1"}, {"us", "1000"}, {"ms", "1000000"}, {"s", "1000000000"}}) {
            if (v.endsWith(suffix[0])) {
                unit = Long.parseLong(suffix[1]);
                digits = v.substring(0, v.length() - suffix[0].length()).trim();
                break;
            }
        }
        try {
            long nanos = Math.multiplyExact(Long.parseLong(digits), unit);
            if (nanos < 0) {
                throw new NumberFormatException();
            }
            return nanos;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (examples: 10s, 500ms, 250us)");
        }
    }
}
