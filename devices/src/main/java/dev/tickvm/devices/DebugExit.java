package dev.tickvm.devices;

import dev.tickvm.bus.PortIoDevice;
import java.util.OptionalInt;

/**
 * Ends the VM on a guest write, like QEMU's isa-debug-exit, at port 0xf4. Unlike QEMU, which
 * exits with (value << 1) | 1, the value written is the exit code as is, so a guest's 0 means
 * success to the shell. Reads return 0.
 */
public final class DebugExit implements PortIoDevice {
    public static final int PORT = 0xf4;
    public static final int PORTS = 4;

    private OptionalInt exitCode = OptionalInt.empty();

    /** The code the guest asked to exit with, once it has. */
    public OptionalInt exitCode() {
        return exitCode;
    }

    @Override
    public int read(int offset, int size) {
        return 0;
    }

    @Override
    public boolean write(int offset, int size, int value) {
        if (offset != 0) {
            return false;
        }
        exitCode = OptionalInt.of(value);
        return true;
    }
}
