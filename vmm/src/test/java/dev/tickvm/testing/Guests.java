package dev.tickvm.testing;

import dev.tickvm.bus.PortIoDevice;
import dev.tickvm.cpu.VcpuState;
import dev.tickvm.images.GuestImage;
import dev.tickvm.machine.IoOutHandler;
import dev.tickvm.machine.Machine;
import dev.tickvm.unicorn.Unicorn;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Short machines for tests: guest code (hand-assembled hex or a catalogue image) loaded and
 * entered at {@link #LOAD}, with the serial port captured and the debug-exit port ending the VM.
 *
 * <pre>
 * Capture out = new Capture();
 * try (Machine m = Guests.builder(Guests.hex("0f31 f4"), out).build()) { ... }
 * </pre>
 */
public final class Guests {
    /** Where hand-made guests are loaded and entered (the boot protocol's image address). */
    public static final long LOAD = 0x100000;
    public static final int SERIAL_PORT = 0x3f8;
    public static final int DEBUG_EXIT_PORT = 0xf4;

    private Guests() {
    }

    /**
     * Machine code from hex; spaces, newlines and underscores are ignored, and a ';' starts a
     * comment that runs to the end of its line (for listings: hex, then the instruction).
     */
    public static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex.replaceAll(";[^\\n]*", "").replaceAll("[\\s_]", ""));
    }

    /** A builder for {@code code} at {@link #LOAD}, wired to {@code capture}. */
    public static Machine.Builder builder(byte[] code, Capture capture) {
        return capture.wire(Machine.builder().image(LOAD, LOAD, code));
    }

    /**
     * A builder that restores {@code states} over guest RAM holding {@code ram} (its whole
     * size), wired to {@code capture}.
     */
    public static Machine.Builder restored(List<VcpuState> states, byte[] ram, Capture capture) {
        return capture.wire(Machine.builder().memorySize(ram.length).restore(states, memory -> memory.write(0, ram)));
    }

    /** A builder for a catalogue image on its default vCPU count, wired to {@code capture}. */
    public static Machine.Builder builder(GuestImage image, Capture capture) {
        return capture.wire(Machine.builder().image(image.loadAddress(), image.entry(), image.code())
                .vcpus(image.defaultVcpus()));
    }

    /**
     * The detail of a fault on an unmapped or refused access of {@code size} bytes at
     * {@code address}, as the loaded Unicorn gives it: before 2.1.4 the fault's RIP is the start
     * of the block holding the access, and the detail says "in the block".
     */
    public static String accessDetail(int size, long address) {
        return String.format("%d byte%s at 0x%x%s", size, size == 1 ? "" : "s", address,
                Unicorn.get().version().syncsRipOnEveryStop() ? "" : ", in the block");
    }

    /** The only offset of {@code needle} in {@code haystack}; fails if it is absent or ambiguous. */
    public static int uniqueOffset(byte[] haystack, byte[] needle) {
        int found = -1;
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            boolean match = true;
            for (int j = 0; j < needle.length && match; j++) {
                match = haystack[i + j] == needle[j];
            }
            if (match) {
                if (found >= 0) {
                    throw new AssertionError("byte pattern " + HexFormat.of().formatHex(needle) + " occurs at "
                            + found + " and " + i);
                }
                found = i;
            }
        }
        if (found < 0) {
            throw new AssertionError("byte pattern " + HexFormat.of().formatHex(needle) + " not found");
        }
        return found;
    }

    /**
     * The serial port (bytes written to offset 0 of 0x3f8..0x3ff) and the debug-exit port 0xf4,
     * whose every write is flagged to the VMM and ends the VM with the written value.
     */
    public static final class Capture {
        private final ByteArrayOutputStream serial = new ByteArrayOutputStream();
        private final List<Integer> exitCodes = new ArrayList<>();
        private final List<Integer> serialOffsets = new ArrayList<>();

        Machine.Builder wire(Machine.Builder builder) {
            return builder.device(SERIAL_PORT, 8, new PortIoDevice() {
                @Override
                public int read(int offset, int size) {
                    return offset == 5 ? 0x60 : 0; // LSR: transmitter empty
                }

                @Override
                public boolean write(int offset, int size, int value) {
                    serialOffsets.add(offset);
                    if (offset == 0) {
                        serial.write(value & 0xff);
                    }
                    return false;
                }
            }).device(DEBUG_EXIT_PORT, 1, new PortIoDevice() {
                @Override
                public int read(int offset, int size) {
                    return 0;
                }

                @Override
                public boolean write(int offset, int size, int value) {
                    exitCodes.add(value);
                    return true;
                }
            }).onIoOut((vcpu, out) -> out.port() == DEBUG_EXIT_PORT
                    ? new IoOutHandler.IoAction.Exit(out.value())
                    : IoOutHandler.IoAction.CONTINUE);
        }

        /** Everything the guest wrote to the serial transmit register, as ASCII. */
        public String serial() {
            return serial.toString(StandardCharsets.US_ASCII);
        }

        public byte[] serialBytes() {
            return serial.toByteArray();
        }

        /** Every value written to the debug-exit port, in order. */
        public List<Integer> exitCodes() {
            return List.copyOf(exitCodes);
        }

        /** The port offsets (relative to 0x3f8) of every serial write. */
        public List<Integer> serialOffsets() {
            return List.copyOf(serialOffsets);
        }
    }
}
