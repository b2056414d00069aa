package dev.tickvm.cpu;

import java.io.IOException;

/** A vCPU state's bytes cannot be read: truncated, from another format version, or invalid. */
public final class VcpuStateFormatException extends IOException {
    VcpuStateFormatException(String message) {
        super("vCPU state: " + message);
    }

    VcpuStateFormatException(String message, Throwable cause) {
        super("vCPU state: " + message, cause);
    }
}
