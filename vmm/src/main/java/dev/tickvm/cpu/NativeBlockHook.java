package dev.tickvm.cpu;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The native block hook, {@code tickvm_block_hook} in {@code libtickvm-block-hook.so}: assembled
 * from {@code vmm/src/main/native/block_hook.S} by the build and carried in the jar beside this
 * class. Loaded once per process. From a jar, the library is first copied to
 * {@code $XDG_CACHE_HOME/tickvm/native} (or {@code ~/.cache/tickvm/native}, else the temporary
 * directory) under a name made of its SHA-256, so that every version has its own file and a file
 * is never rewritten while another process has it loaded.
 *
 * <p>Never fatal: if anything fails (another CPU architecture, no library in the jar, a cache that
 * cannot be written), {@link #available()} is false, {@link #problem()} says why, and the vCPUs
 * use the Java hook.
 */
public final class NativeBlockHook {
    static final String LIBRARY = "libtickvm-block-hook.so";
    static final String SYMBOL = "tickvm_block_hook";
    private static final MemorySegment FUNCTION;
    private static final String PROBLEM;
    private static final Path PATH;

    static {
        MemorySegment function = null;
        String problem = null;
        Path path = null;
        try {
            String arch = System.getProperty("os.arch", "");
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                throw new IOException("it is x86-64 Linux code, and this is " + os + " on " + arch);
            }
            path = locate();
            SymbolLookup library = SymbolLookup.libraryLookup(path, Arena.global());
            function = library.find(SYMBOL).orElseThrow(() -> new IOException(LIBRARY + " has no " + SYMBOL));
        } catch (IOException | RuntimeException e) {
            problem = e.getMessage() != null ? e.getMessage() : e.toString();
            function = null;
        }
        FUNCTION = function;
        PROBLEM = problem;
        PATH = function != null ? path : null;
    }

    private NativeBlockHook() {
    }

    /** Whether the native hook loaded in this process. */
    public static boolean available() {
        return FUNCTION != null;
    }

    /** Why it did not, or null. */
    public static String problem() {
        return PROBLEM;
    }

    /** The library file it was loaded from, or null. */
    public static Path path() {
        return PATH;
    }

    /** The hook's entry point. */
    static MemorySegment function() {
        if (FUNCTION == null) {
            throw new IllegalStateException("the native block hook is not available: " + PROBLEM);
        }
        return FUNCTION;
    }

    /**
     * Names another library file to load instead of the one in the jar (a hook built by hand, or
     * none: a file that does not exist makes the native hook unavailable, which tests use).
     */
    public static final String LIBRARY_PROPERTY = "tickvm.nativeBlockHook.library";

    /** The library as a file: where it is, or a copy in the cache. */
    private static Path locate() throws IOException {
        String override = System.getProperty(LIBRARY_PROPERTY);
        if (override != null && !override.isBlank()) {
            Path path = Path.of(override);
            if (!Files.isRegularFile(path)) {
                throw new IOException(LIBRARY_PROPERTY + "=" + override + ": no such file");
            }
            return path;
        }
        URL url = NativeBlockHook.class.getResource(LIBRARY);
        if (url == null) {
            throw new IOException(LIBRARY + " is not beside " + NativeBlockHook.class.getName()
                    + " (a build without binutils?)");
        }
        if (url.getProtocol().equals("file")) {
            try {
                return Path.of(url.toURI());
            } catch (URISyntaxException | IllegalArgumentException e) {
                throw new IOException("cannot read " + url + ": " + e.getMessage(), e);
            }
        }
        byte[] bytes;
        try (InputStream in = url.openStream()) {
            bytes = in.readAllBytes();
        }
        String name = "libtickvm-block-hook-" + sha256(bytes).substring(0, 16) + ".so";
        IOException last = null;
        for (Path dir : cacheDirectories()) {
            try {
                Path file = dir.resolve(name);
                if (Files.isRegularFile(file) && Files.size(file) == bytes.length) {
                    return file;
                }
                Files.createDirectories(dir);
                Path temp = Files.createTempFile(dir, name, ".tmp");
                try {
                    Files.write(temp, bytes);
                    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(temp);
                }
                return file;
            } catch (IOException | RuntimeException e) {
                last = new IOException("cannot write " + dir.resolve(name) + ": " + e.getMessage(), e);
            }
        }
        throw last != null ? last : new IOException("no directory to put " + LIBRARY + " in");
    }

    private static Path[] cacheDirectories() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        String home = System.getProperty("user.home", "");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(home, ".cache");
        return new Path[] {base.resolve("tickvm").resolve("native"),
            Path.of(System.getProperty("java.io.tmpdir", "/tmp"), "tickvm-native-" + System.getProperty("user.name", "user"))};
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
