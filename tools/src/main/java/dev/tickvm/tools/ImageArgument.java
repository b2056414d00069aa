package dev.tickvm.tools;

import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves --image: a catalogue name, or a path to a flat binary. */
final class ImageArgument {
    private ImageArgument() {
    }

    static GuestImage resolve(String nameOrPath) {
        var named = GuestImages.byName(nameOrPath);
        if (named.isPresent()) {
            return named.get();
        }
        Path path = Path.of(nameOrPath);
        if (nameOrPath.contains("/") || nameOrPath.endsWith(".bin") || Files.exists(path)) {
            if (!Files.exists(path)) {
                throw new IllegalArgumentException("no such image file: " + path);
            }
            if (!Files.isRegularFile(path)) {
                // /dev/null or a directory exists: "no such image file" would be wrong.
                throw new IllegalArgumentException(path + ": not a regular file (" + FileProblems.kind(path)
                        + "); --image takes a guest image file or a built-in name (./tickvm images)");
            }
            try {
                return GuestImages.fromFile(path);
            } catch (java.nio.file.AccessDeniedException e) {
                throw new IllegalArgumentException(path + ": cannot read the image: " + FileProblems.reason(e), e);
            } catch (IOException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
        return GuestImages.require(nameOrPath);
    }
}
