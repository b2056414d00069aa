package dev.tickvm.tools;

import java.util.Locale;

/** Counted nouns for people: "1 trapped instruction", "2 trapped instructions", "1,000,000 blocks". */
final class Words {
    private Words() {
    }

    /** The count with thousands separators, then the noun, with an "s" unless the count is 1. */
    static String count(long n, String singular) {
        return String.format(Locale.ROOT, "%,d %s", n, n == 1 ? singular : singular + "s");
    }
}
