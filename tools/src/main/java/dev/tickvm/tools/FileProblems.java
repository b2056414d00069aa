package dev.tickvm.tools;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Why an input file cannot be used, in words: the JDK's messages for a refused open are only the
 * path again ({@link AccessDeniedException}), and "not a regular file" says nothing of what the
 * path is instead.
 */
public final class FileProblems {
    private FileProblems() {
    }

    /** Why reading failed: "permission denied", "no such file", or the system's own message. */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof NotDirectoryException) {
            return "a part of the path is not a directory";
        }
        if (e instanceof java.nio.charset.CharacterCodingException) {
            return "not text in the expected encoding";
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /**
     * What an existing path that is not a regular file is: "a directory", "a character device"
     * (as /dev/null), "a block device", "a FIFO", "a socket", else "not a regular file".
     */
    public static String kind(Path path) {
        return dev.tickvm.snapshot.FileKinds.describe(path);
    }

    /**
     * Null when {@code path} is a regular file that this process may read, else one line on why
     * not, after the path: "no such file", "not a regular file (a directory)", "permission denied".
     */
    public static String unreadable(Path path) {
        if (!Files.exists(path)) {
            return "no such file";
        }
        if (!Files.isRegularFile(path)) {
            return "not a regular file (" + kind(path) + ")";
        }
        if (!Files.isReadable(path)) {
            return "permission denied";
        }
        return null;
    }
}
