package dev.tickvm.tools;

import dev.tickvm.images.GuestImage;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded random-guest run (issue 11): a few hundred random flat images, 16 to 256 bytes each,
 * loaded from a file the way {@code tickvm run --image-file} does and run in-process through
 * GuestRun with a budget of 20,000 blocks. Each must end with a typed exit (exited, all halted,
 * faulted or out of budget) without an exception or anything on System.err, and a second run of the
 * same image must give the same exit, blocks, traps, host time and serial bytes. The images are
 * mostly random bytes with instructions that reach the VMM mixed in (RDTSC, RDTSCP, RDMSR, WRMSR,
 * HLT, CPUID, OUT to the serial port and the debug exit, short jumps back), so that not every
 * image faults on its first instruction.
 *
 * <p>Run only on Unicorn 2.1.x: 2.0.1 aborts the process on some invalid code (see
 * HostileGuestProcessTest), which ./test does not use.
 */
class RandomGuestTest {
    /** How many images (-Dtickvm.randomGuests=N for a longer run). */
    static final int IMAGES = Integer.getInteger("tickvm.randomGuests", 300);
    private static final long SEED = 0x71c_4b1dL;
    private static final long BUDGET = 20_000;
    /** Small, so that a boot is quick: the image sits at 1 MiB. */
    private static final long MEMORY = 2L << 20;

    /** Instructions that trap to the VMM or loop, spliced into the random bytes. */
    private static final byte[][] PIECES = {
        {0x0f, 0x31}, // RDTSC
        {0x0f, 0x01, (byte) 0xf9}, // RDTSCP
        {0x0f, 0x32}, // RDMSR
        {0x0f, 0x30}, // WRMSR
        {(byte) 0xf4}, // HLT
        {0x0f, (byte) 0xa2}, // CPUID
        {(byte) 0xb0, 0x41, (byte) 0xe6, (byte) 0xf8}, // MOV AL,'A'; OUT 0xf8,AL (an imm8 port: no device there)
        {0x66, (byte) 0xba, (byte) 0xf8, 0x03, (byte) 0xb0, 0x41, (byte) 0xee}, // MOV DX,0x3f8; MOV AL,'A'; OUT DX,AL
        {0x66, (byte) 0xba, (byte) 0xf4, 0x00, (byte) 0xb0, 0x07, (byte) 0xee}, // MOV DX,0xf4; MOV AL,7; OUT DX,AL
        {(byte) 0xeb, (byte) 0xfe}, // JMP $
        {(byte) 0xeb, (byte) 0xf0}, // JMP back 16
        {(byte) 0xb9, 0x10, 0x00, 0x00, (byte) 0xc0}, // MOV ECX,0xc0000010 (an MSR number)
        {0x48, 0x31, (byte) 0xc0}, // XOR RAX,RAX
    };

    @TempDir
    Path dir;

    @Test
    void randomImagesEndWithATypedExitTheSameWayTwice() throws Exception {
        SplittableRandom seeds = new SplittableRandom(SEED);
        GuestsTwice.runAll("RandomGuestTest", IMAGES, i -> {
            byte[] code = image(seeds.split());
            GuestImage image = GuestsTwice.image(dir, "random-" + i + ".bin", code);
            return GuestsTwice.twice(new GuestRun(image).memorySize(MEMORY).budget(BUDGET), BUDGET,
                    "image " + i + " (" + HexFormat.of().formatHex(code) + ")");
        });
    }

    /** 16 to 256 random bytes with a few of the PIECES written over them. */
    static byte[] image(SplittableRandom random) {
        byte[] code = new byte[random.nextInt(16, 257)];
        random.nextBytes(code);
        int pieces = random.nextInt(0, 6);
        for (int p = 0; p < pieces; p++) {
            byte[] piece = PIECES[random.nextInt(PIECES.length)];
            int at = random.nextInt(0, code.length - piece.length + 1);
            System.arraycopy(piece, 0, code, at, piece.length);
        }
        return code;
    }
}
