package dev.tickvm.snapshot;

/**
 * A snapshot could not be saved or loaded: either the file's content is wrong
 * ({@link SnapshotFormatException}) or the operating system refused an operation
 * ({@link SnapshotIoException}). Every message starts with the file's path.
 */
public abstract sealed class SnapshotException extends Exception
        permits SnapshotFormatException, SnapshotIoException {
    private final String file;

    SnapshotException(String file, String message, Throwable cause) {
        super(message, cause);
        this.file = file;
    }

    /** The snapshot's path, as the caller gave it. */
    public String file() {
        return file;
    }
}
