package dev.tickvm.unicorn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The check before a library file reaches the JVM's loader (issue 11.10): a non-ELF file made
 * HotSpot print two stack-guard warnings before dlopen's error.
 */
class UnicornLibraryCheckTest {
    @TempDir
    Path dir;

    private Path elf(String name, int elfClass, int type, int machine) throws IOException {
        byte[] h = new byte[64];
        h[0] = 0x7f;
        h[1] = 'E';
        h[2] = 'L';
        h[3] = 'F';
        h[4] = (byte) elfClass;
        h[5] = 1;
        h[16] = (byte) type;
        h[18] = (byte) machine;
        return Files.write(dir.resolve(name), h);
    }

    @Test
    void aTextFileIsRefusedBeforeTheLoaderSeesIt() throws IOException {
        Path text = Files.writeString(dir.resolve("hostname"), "box\n");
        UnicornException e = assertThrows(UnicornException.class, () -> Unicorn.load(Optional.of(text)));
        assertEquals("cannot load Unicorn: " + text + " is not a shared library (no ELF header); install Unicorn 2.1.x"
                + " (./tickvm does) or point TICKVM_UNICORN_LIB or --unicorn-lib at libunicorn.so.2", e.getMessage());
    }

    @Test
    void elfFilesOfTheWrongKind() throws IOException {
        assertEquals("is not a 64-bit little-endian ELF, as x86-64 libraries are",
                Unicorn.notX86_64SharedLibrary(elf("32.so", 1, 3, 3)));
        assertEquals("is an ELF for another machine (e_machine 183), not x86-64",
                Unicorn.notX86_64SharedLibrary(elf("arm.so", 2, 3, 183)));
        assertEquals("is not a shared library (ELF type 1, not ET_DYN)",
                Unicorn.notX86_64SharedLibrary(elf("x.o", 2, 1, 62)));
        assertNull(Unicorn.notX86_64SharedLibrary(elf("ok.so", 2, 3, 62)));
        assertEquals("is a directory, not a shared library", Unicorn.notX86_64SharedLibrary(dir));
        assertEquals("is not a shared library (no ELF header)",
                Unicorn.notX86_64SharedLibrary(Files.write(dir.resolve("empty.so"), new byte[0])));
    }

    @Test
    void theRealLibraryPasses() {
        String library = System.getenv(Unicorn.LIBRARY_ENV);
        org.junit.jupiter.api.Assumptions.assumeTrue(library != null && !library.isBlank());
        assertNull(Unicorn.notX86_64SharedLibrary(Path.of(library)));
    }
}
