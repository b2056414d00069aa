package dev.tickvm.unicorn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class UnicornErrorTest {

    @Test
    void codesMapToTheEnumInUnicornHeaderOrder() {
        assertEquals(UnicornError.OK, UnicornError.of(0));
        assertEquals(UnicornError.READ_UNMAPPED, UnicornError.of(6));
        assertEquals(UnicornError.FETCH_UNMAPPED, UnicornError.of(8));
        assertEquals(UnicornError.INSN_INVALID, UnicornError.of(10));
        assertEquals(UnicornError.ARG, UnicornError.of(15));
        assertEquals(UnicornError.EXCEPTION, UnicornError.of(21));
        assertEquals(UnicornError.OVERFLOW, UnicornError.of(22));
    }

    @Test
    void codesOutsideTheHeaderAreUnknown() {
        assertEquals(UnicornError.UNKNOWN, UnicornError.of(23));
        assertEquals(UnicornError.UNKNOWN, UnicornError.of(-1));
        assertEquals(UnicornError.UNKNOWN, UnicornError.of(Integer.MAX_VALUE));
    }

    @Test
    void cNameHasTheUcErrPrefix() {
        assertEquals("UC_ERR_FETCH_UNMAPPED", UnicornError.FETCH_UNMAPPED.cName());
        assertEquals("UC_ERR_OK", UnicornError.OK.cName());
    }

    @Test
    void onlyExecutionErrorsAreGuestFaults() {
        Set<UnicornError> faults = EnumSet.noneOf(UnicornError.class);
        for (UnicornError e : UnicornError.values()) {
            if (e.isGuestFault()) {
                faults.add(e);
            }
        }
        assertEquals(EnumSet.of(UnicornError.READ_UNMAPPED, UnicornError.WRITE_UNMAPPED, UnicornError.FETCH_UNMAPPED,
                UnicornError.INSN_INVALID, UnicornError.WRITE_PROT, UnicornError.READ_PROT, UnicornError.FETCH_PROT,
                UnicornError.READ_UNALIGNED, UnicornError.WRITE_UNALIGNED, UnicornError.FETCH_UNALIGNED,
                UnicornError.EXCEPTION), faults);
    }

    /** Proves the enum order against the loaded library's own uc_strerror texts. */
    @Test
    void loadedLibraryNamesEveryCodeLikeTheEnum() {
        Unicorn u = Unicorn.get();
        // UC_ERR_OVERFLOW (22) arrived in Unicorn 2.1.0.
        int last = u.version().compareTo(new UnicornVersion(2, 1, 0)) >= 0 ? 22 : 21;
        for (int code = 0; code <= last; code++) {
            if (code == 19) {
                continue; // uc_strerror has no text for UC_ERR_HOOK_EXIST (checked below)
            }
            String text = u.strerror(code);
            String expected = "(" + UnicornError.of(code).cName() + ")";
            assertTrue(text.endsWith(expected), "code " + code + ": " + text + " should end with " + expected);
        }
        assertEquals("Invalid argument (UC_ERR_ARG)", u.strerror(15));
        // Unicorn's own gap, in 2.0.1 and 2.1.x alike: the message of UnicornException says so.
        assertEquals("Unknown error code", u.strerror(19));
    }
}
