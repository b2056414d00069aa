package dev.tickvm.snapshot;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Replaces a file so that, whenever the process dies, the path holds either the previous file or
 * the complete new one, never a mix. The steps, in this order:
 *
 * <ol>
 * <li>Delete temporary files that earlier saves of the same target left when they were killed:
 *     each live save holds a lock on its own temporary file, so one that can be locked is dead.
 * <li>Write a new temporary file {@code .NAME.RANDOM.tmp} in the target's directory (the same file
 *     system, so the rename below is atomic), created exclusively and locked while it exists.
 * <li>fsync it: its data must be on disk before the rename can make it visible.
 * <li>rename(2) it over the target (ATOMIC_MOVE): the moment the new snapshot replaces the old.
 * <li>fsync the directory, so that the rename itself survives a power loss. Some file systems
 *     refuse to sync a directory; the new file is in place regardless, and the result says so.
 * </ol>
 *
 * A failure before the rename deletes the temporary file and leaves the target untouched. One save
 * per target at a time: two processes saving the same path cannot damage each other's file (each
 * has its own temporary name), the last rename wins.
 */
final class AtomicSave {
    private static final String SUFFIX = ".tmp";

    /** Writes the new file's content. */
    @FunctionalInterface
    interface Content {
        void write(FileChannel channel) throws IOException;
    }

    private AtomicSave() {
    }

    /** Replaces {@code target}; true if the directory was synced too. */
    static boolean replace(Path target, Content content) throws SnapshotIoException {
        String file = target.toString();
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        String prefix = "." + absolute.getFileName() + ".";
        removeDeadTemporaries(dir, prefix);
        Path temp = null;
        String step = "cannot create a temporary file in " + dir;
        try {
            FileChannel created = null;
            for (int attempt = 0; created == null; attempt++) {
                temp = dir.resolve(prefix + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()) + SUFFIX);
                try {
                    created = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                } catch (FileAlreadyExistsException e) {
                    temp = null;
                    if (attempt == 9) {
                        throw e;
                    }
                }
            }
            try (FileChannel channel = created) {
                if (channel.tryLock() == null) {
                    throw new IOException("another process locked it");
                }
                step = "cannot write " + temp.getFileName();
                content.write(channel);
                step = "cannot sync " + temp.getFileName();
                channel.force(true);
                // Renamed while still locked: no other save may take it for a dead one's leftover.
                step = "cannot rename " + temp.getFileName() + " over it";
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE);
                temp = null;
            }
        } catch (IOException e) {
            deleteQuietly(temp, e);
            throw new SnapshotIoException(file, step, e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(temp, e);
            throw e;
        }
        return syncDirectory(dir);
    }

    /** Deletes {@code .NAME.*.tmp} files that no live save holds locked. Best effort: a leftover costs only disk. */
    private static void removeDeadTemporaries(Path dir, String prefix) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir,
                p -> p.getFileName().toString().startsWith(prefix) && p.getFileName().toString().endsWith(SUFFIX))) {
            for (Path p : entries) {
                try (FileChannel c = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    FileLock lock = c.tryLock();
                    if (lock != null) {
                        Files.deleteIfExists(p);
                    }
                } catch (IOException | OverlappingFileLockException e) {
                    // Gone already, or held by a save in this JVM: not ours to delete.
                }
            }
        } catch (IOException e) {
            // An unreadable directory fails the save itself, with a better message, just after.
        }
    }

    private static boolean syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void deleteQuietly(Path temp, Throwable failure) {
        if (temp == null) {
            return;
        }
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }
}
