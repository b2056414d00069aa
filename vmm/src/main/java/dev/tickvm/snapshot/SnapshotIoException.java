package dev.tickvm.snapshot;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/**
 * The operating system refused a read, write, sync or rename of a snapshot. The message says
 * which file, what was being done and why, e.g. {@code vm.tvm: cannot open for reading: no such
 * file}; the {@link IOException} is the cause.
 */
public final class SnapshotIoException extends SnapshotException {
    SnapshotIoException(String file, String operation, IOException cause) {
        super(file, file + ": " + operation + ": " + reason(cause), cause);
    }

    SnapshotIoException(String file, String message) {
        super(file, file + ": " + message, null);
    }

    /** The JDK's messages for these two are only the path again. */
    private static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
