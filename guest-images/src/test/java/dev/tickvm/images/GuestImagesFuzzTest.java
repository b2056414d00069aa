package dev.tickvm.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * Fuzz target for the image loader: any file loads with {@link GuestImages#fromFile} (its bytes,
 * entered at the default load address) or is refused with an IOException (an empty file); an
 * image built from any load address, entry, vCPU count and bytes is valid or refused with an
 * IllegalArgumentException; any name finds a catalogue image or is refused by
 * {@link GuestImages#require} with an IllegalArgumentException. Plain ./test replays the inputs in
 * GuestImagesFuzzTestInputs/; JAZZER_FUZZ=1 fuzzes (docs/TESTING.md).
 */
class GuestImagesFuzzTest {
    private static final Path FILE;

    static {
        try {
            Path dir = Files.createTempDirectory("tickvm-image-fuzz");
            dir.toFile().deleteOnExit();
            FILE = dir.resolve("fuzz.bin");
            FILE.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "60s")
    void anImageLoadsOrIsRefusedWithATypedException(FuzzedDataProvider data) throws IOException {
        long load = data.consumeLong();
        long entry = data.consumeBoolean() ? load + data.consumeInt(-2, 300) : data.consumeLong();
        int vcpus = data.consumeInt();
        String name = data.consumeString(40);
        byte[] code = data.consumeRemainingAsBytes();

        Files.write(FILE, code);
        try {
            GuestImage image = GuestImages.fromFile(FILE);
            assertArrayEquals(code, image.code());
            assertEquals(GuestImages.DEFAULT_LOAD_ADDRESS, image.entry());
        } catch (IOException e) {
            assertEquals(0, code.length, e.toString());
        }

        try {
            GuestImage image = new GuestImage("fuzz", "fuzzed", load, entry, vcpus, OptionalInt.empty(), code);
            assertTrue(image.entry() >= image.loadAddress() && image.entry() - image.loadAddress() < code.length);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("guest image fuzz"), e.getMessage());
        }

        try {
            assertEquals(name, GuestImages.require(name).name());
        } catch (IllegalArgumentException e) {
            assertTrue(GuestImages.byName(name).isEmpty(), e.getMessage());
        }
    }
}
