package dev.tickvm.unicorn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class UnicornVersionTest {

    @Test
    void decodesMajorMinorPatchFromThePackedValueAndIgnoresTheExtraByte() {
        assertEquals(new UnicornVersion(2, 1, 1), UnicornVersion.decode(0x0201_0100));
        assertEquals(new UnicornVersion(2, 0, 1), UnicornVersion.decode(0x0200_01ff));
        assertEquals(new UnicornVersion(255, 254, 253), UnicornVersion.decode(0xfffe_fd07));
    }

    @Test
    void printsAsDottedTriple() {
        assertEquals("2.1.1", UnicornVersion.decode(0x0201_0100).toString());
        assertEquals("2.0.1", Unicorn.MINIMUM.toString());
    }

    @Test
    void ordersByMajorThenMinorThenPatch() {
        assertEquals(-1, Integer.signum(new UnicornVersion(2, 0, 1).compareTo(new UnicornVersion(2, 0, 2))));
        assertEquals(-1, Integer.signum(new UnicornVersion(2, 0, 255).compareTo(new UnicornVersion(2, 1, 0))));
        assertEquals(-1, Integer.signum(new UnicornVersion(1, 255, 255).compareTo(new UnicornVersion(2, 0, 0))));
        assertEquals(0, new UnicornVersion(2, 1, 1).compareTo(UnicornVersion.decode(0x0201_0100)));
        assertEquals(1, Integer.signum(new UnicornVersion(2, 1, 0).compareTo(new UnicornVersion(2, 0, 9))));
    }

    @Test
    void only2Dot0HasTheKnown201Defects() {
        assertTrue(new UnicornVersion(2, 0, 1).hasKnown201Defects());
        assertTrue(new UnicornVersion(2, 0, 0).hasKnown201Defects());
        assertFalse(new UnicornVersion(2, 1, 1).hasKnown201Defects());
        assertFalse(new UnicornVersion(3, 0, 1).hasKnown201Defects());
    }

    @Test
    void only2Dot1Dot0And2Dot1Dot1MissStoresIntoTranslatedCode() {
        assertTrue(new UnicornVersion(2, 1, 0).missesStoresIntoTranslatedCode());
        assertTrue(new UnicornVersion(2, 1, 1).missesStoresIntoTranslatedCode());
        assertFalse(new UnicornVersion(2, 1, 2).missesStoresIntoTranslatedCode());
        assertFalse(new UnicornVersion(2, 1, 4).missesStoresIntoTranslatedCode());
        assertFalse(new UnicornVersion(2, 0, 1).missesStoresIntoTranslatedCode());
        assertFalse(new UnicornVersion(2, 2, 0).missesStoresIntoTranslatedCode());
    }

    @Test
    void ripIsExactOnEveryStopFrom2Dot1Dot4() {
        assertFalse(new UnicornVersion(2, 0, 1).syncsRipOnEveryStop());
        assertFalse(new UnicornVersion(2, 1, 1).syncsRipOnEveryStop());
        assertFalse(new UnicornVersion(2, 1, 3).syncsRipOnEveryStop());
        assertTrue(new UnicornVersion(2, 1, 4).syncsRipOnEveryStop());
        assertTrue(new UnicornVersion(2, 2, 0).syncsRipOnEveryStop());
    }

    @Test
    void loadedLibraryIsAtLeastTheMinimumAndDescribesItself() {
        Unicorn u = Unicorn.get();
        UnicornVersion v = u.version();
        assertEquals(2, v.major());
        assertTrue(v.compareTo(Unicorn.MINIMUM) >= 0, v.toString());
        assertEquals("Unicorn " + v + " (" + u.source() + ")", u.describe());
        String env = System.getenv(Unicorn.LIBRARY_ENV);
        assertEquals(env == null || env.isBlank() ? "libunicorn.so.2" : env, u.source());
    }
}
