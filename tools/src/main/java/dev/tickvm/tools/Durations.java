package dev.tickvm.tools;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;

/**
 * Human-readable durations for summaries, one rule everywhere: the unit is the largest of ns, us,
 * ms and s that keeps the number at 1 or more; the number has at most three decimals, without
 * trailing zeros, and thousands separators (2,160 ns is "2.16 us", 2,001,500 ns "2.002 ms",
 * 16,600,000 ns "16.6 ms", 10 s "10 s", 3,600 s "3,600 s").
 */
final class Durations {
    private static final String[] UNITS = {"ns", "us", "ms", "s"};

    private Durations() {
    }

    static String format(long nanos) {
        if (nanos < 0) {
            return "-" + format(-nanos); // Long.MIN_VALUE stays negative; no duration is that long
        }
        BigDecimal value = BigDecimal.valueOf(nanos);
        int unit = 0;
        // Rounding to three decimals can reach 1000 (999,999.9996 us): then the next unit.
        while (unit < UNITS.length - 1 && value.setScale(3, RoundingMode.HALF_UP).compareTo(BigDecimal.valueOf(1000)) >= 0) {
            value = value.movePointLeft(3);
            unit++;
        }
        DecimalFormat number = new DecimalFormat("#,##0.###", DecimalFormatSymbols.getInstance(Locale.ROOT));
        number.setRoundingMode(RoundingMode.HALF_UP);
        return number.format(value) + " " + UNITS[unit];
    }
}
