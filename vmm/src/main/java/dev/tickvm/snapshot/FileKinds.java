package dev.tickvm.snapshot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What a path that exists but is no regular file is, for messages that say so. */
public final class FileKinds {
    private FileKinds() {
    }

    /**
     * "a directory", "a character device" (as /dev/null), "a block device", "a FIFO", "a socket",
     * else "a special file".
     */
    public static String describe(Path path) {
        if (Files.isDirectory(path)) {
            return "a directory";
        }
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode");
            return switch (mode & 0170000) {
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0010000 -> "a FIFO";
                case 0140000 -> "a socket";
                default -> "a special file";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return "a special file";
        }
    }
}
