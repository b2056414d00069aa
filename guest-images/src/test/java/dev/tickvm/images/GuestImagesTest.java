package dev.tickvm.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestImagesTest {

    @Test
    void catalogueListsEveryBuiltImageAtOneMebibyte() {
        List<String> names = GuestImages.catalogue().stream().map(GuestImage::name).toList();
        assertEquals(List.of("hello", "rdtsc-loop", "smp-hello", "probe", "fault-invalid-opcode", "fault-ud2",
                "fault-unmapped", "fault-loop", "fault-msr", "clockwatch", "counter"), names);
        for (GuestImage image : GuestImages.catalogue()) {
            assertEquals(0x100000L, image.loadAddress(), image.name());
            assertEquals(image.loadAddress(), image.entry(), image.name());
            assertTrue(image.size() > 16, image.name());
        }
    }

    @Test
    void clockwatchRunsOnTwoVcpusUntilTheBudgetEndsIt() {
        GuestImage image = GuestImages.require("clockwatch");
        assertEquals(2, image.defaultVcpus());
        assertTrue(image.expectedExitCode().isEmpty(), "it never exits by itself");
        assertTrue(image.description().startsWith("Every vCPU reads its TSC and kvmclock forever"), image.description());
        // It enables kvmclock itself: WRMSR with ECX = MSR_KVM_SYSTEM_TIME_NEW (mov ecx, 0x4b564d01).
        byte[] movEcx = {(byte) 0xb9, 0x01, 0x4d, 0x56, 0x4b};
        assertTrue(indexOf(image.code(), movEcx) >= 0, "mov ecx, MSR_KVM_SYSTEM_TIME_NEW not found");
    }

    @Test
    void invalidOpcodeImageCarriesTheBytesThatAbortUnicorn201() {
        byte[] code = GuestImages.require("fault-invalid-opcode").code();
        byte[] bad = {0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xdf};
        assertTrue(indexOf(code, bad) >= 0, "0a ff ff df not found in the image");
    }

    @Test
    void unknownNameListsTheCatalogue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GuestImages.require("nope"));
        assertTrue(e.getMessage().contains("hello, rdtsc-loop"), e.getMessage());
    }

    @Test
    void rawImageFromFileLoadsAtDefaultAddress(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tiny.bin");
        Files.write(file, new byte[] {(byte) 0xf4});
        GuestImage image = GuestImages.fromFile(file);
        assertEquals("tiny.bin", image.name());
        assertEquals(GuestImages.DEFAULT_LOAD_ADDRESS, image.entry());
        assertArrayEquals(new byte[] {(byte) 0xf4}, image.code());
    }

    @Test
    void emptyRawImageIsRejected(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("empty.bin");
        Files.write(file, new byte[0]);
        assertThrows(java.io.IOException.class, () -> GuestImages.fromFile(file));
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
