package dev.tickvm.tools;

import picocli.CommandLine;

/** Parses memory sizes: 16M, 16MiB, 2G, 4096K or plain bytes (binary units). */
final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        String v = value.trim().toUpperCase(java.util.Locale.ROOT);
        long unit = 1;
        String digits = v;
        for (String[] suffix : new String[][] {{"KIB", "1024"}, {"MIB", "1048576"}, {"GIB", "1073741824"},
                {"K", "1024"}, {"M", "1048576"}, {"G", "1073741824"}, {"B", "1"}}) {
            if (v.endsWith(suffix[0])) {
                unit = Long.parseLong(suffix[1]);
                digits = v.substring(0, v.length() - suffix[0].length()).trim();
                break;
            }
        }
        try {
            return Math.multiplyExact(Long.parseLong(digits), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a size (examples: 16M, 64MiB, 1G)");
        }
    }
}
