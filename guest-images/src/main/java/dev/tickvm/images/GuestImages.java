package dev.tickvm.images;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** The catalogue of guest images built into this jar, and loading of raw images from files. */
public final class GuestImages {
    /** Where every catalogue image, and any raw image file, is loaded and entered. */
    public static final long DEFAULT_LOAD_ADDRESS = 0x10_0000L;

    private static final String CATALOGUE = "catalogue.json";
    private static volatile List<GuestImage> catalogue;

    private GuestImages() {
    }

    /** Every image in the catalogue, in catalogue order. */
    public static List<GuestImage> catalogue() {
        List<GuestImage> images = catalogue;
        if (images == null) {
            images = readCatalogue();
            catalogue = images;
        }
        return images;
    }

    /** The catalogue image of that name, if any. */
    public static Optional<GuestImage> byName(String name) {
        return catalogue().stream().filter(i -> i.name().equals(name)).findFirst();
    }

    /** The catalogue image of that name; IllegalArgumentException listing the names otherwise. */
    public static GuestImage require(String name) {
        return byName(name).orElseThrow(() -> new IllegalArgumentException("no guest image named '" + name
                + "'; the catalogue has: " + String.join(", ", catalogue().stream().map(GuestImage::name).toList())));
    }

    /** A raw flat binary from a file, loaded and entered at {@link #DEFAULT_LOAD_ADDRESS}. */
    public static GuestImage fromFile(Path file) throws IOException {
        byte[] code = Files.readAllBytes(file);
        if (code.length == 0) {
            throw new IOException(file + ": empty guest image");
        }
        return new GuestImage(file.getFileName().toString(), "raw image from " + file, DEFAULT_LOAD_ADDRESS,
                DEFAULT_LOAD_ADDRESS, 1, OptionalInt.empty(), code);
    }

    private static List<GuestImage> readCatalogue() {
        try (InputStream in = resource(CATALOGUE)) {
            JsonNode root = new ObjectMapper().readTree(in);
            long load = Long.decode(root.path("loadAddress").asText());
            List<GuestImage> images = new ArrayList<>();
            for (JsonNode node : root.path("images")) {
                String name = node.path("name").asText();
                byte[] code;
                try (InputStream bin = resource(name + ".bin")) {
                    code = bin.readAllBytes();
                }
                JsonNode exit = node.path("exitCode");
                images.add(new GuestImage(name, node.path("description").asText(), load, load,
                        node.path("vcpus").asInt(1),
                        exit.isInt() ? OptionalInt.of(exit.asInt()) : OptionalInt.empty(), code));
            }
            return List.copyOf(images);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the guest image catalogue", e);
        }
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = GuestImages.class.getResourceAsStream(name);
        if (in == null) {
            throw new IOException("guest image resource " + name + " is missing from the build");
        }
        return in;
    }
}
