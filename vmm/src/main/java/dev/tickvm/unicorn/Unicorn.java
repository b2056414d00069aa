package dev.tickvm.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A loaded libunicorn: the downcall handles of the functions tickvm uses, and the version check.
 * One instance per library file; engines opened from it share its handles.
 *
 * <p>Where the library comes from, first match wins: an explicit path ({@code --unicorn-lib}),
 * the environment variable {@value #LIBRARY_ENV} (set by ./tickvm and ./test to the Unicorn 2.1.x
 * they install), then the system's {@code libunicorn.so.2}.
 */
public final class Unicorn {
    /** Environment variable naming the libunicorn.so.2 to load. */
    public static final String LIBRARY_ENV = "TICKVM_UNICORN_LIB";
    /** Oldest version tickvm runs on (Debian bookworm's package). */
    public static final UnicornVersion MINIMUM = new UnicornVersion(2, 0, 1);

    static final int ARCH_X86 = 4;
    static final int MODE_64 = 1 << 3;

    /**
     * Register access never calls back into Java and never blocks: a critical downcall skips
     * the thread-state transition, which is most of its cost on the trap path.
     */
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);

    private static volatile Unicorn process;

    private final String source;
    private final UnicornVersion version;

    final MethodHandle ucOpen;
    final MethodHandle ucClose;
    final MethodHandle ucStrerror;
    final MethodHandle ucRegRead;
    final MethodHandle ucRegWrite;
    final MethodHandle ucRegReadBatch;
    final MethodHandle ucRegWriteBatch;
    final MethodHandle ucMemMapPtr;
    final MethodHandle ucMemRead;
    final MethodHandle ucMemWrite;
    final MethodHandle ucEmuStart;
    final MethodHandle ucEmuStop;
    /** uc_emu_stop's address, for native hooks that stop the engine themselves. */
    private final MemorySegment ucEmuStopAddress;
    final MethodHandle ucHookAdd;
    final MethodHandle ucHookDel;
    final MethodHandle ucCtlNoArg;
    final MethodHandle ucCtlIntArg;
    final MethodHandle ucCtlTwoLongArgs;

    private Unicorn(String source, SymbolLookup lookup) {
        this.source = source;
        Linker linker = Linker.nativeLinker();
        MethodHandle ucVersion = handle(linker, lookup, "uc_version", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        ucOpen = handle(linker, lookup, "uc_open", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        ucClose = handle(linker, lookup, "uc_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        ucStrerror = handle(linker, lookup, "uc_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        ucRegRead = handle(linker, lookup, "uc_reg_read", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS),
                CRITICAL);
        ucRegWrite = handle(linker, lookup, "uc_reg_write", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS),
                CRITICAL);
        ucRegReadBatch = handle(linker, lookup, "uc_reg_read_batch",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT),
                CRITICAL);
        ucRegWriteBatch = handle(linker, lookup, "uc_reg_write_batch",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT),
                CRITICAL);
        ucMemMapPtr = handle(linker, lookup, "uc_mem_map_ptr",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS));
        ucMemRead = handle(linker, lookup, "uc_mem_read",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
        ucMemWrite = handle(linker, lookup, "uc_mem_write",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
        // uc_emu_start calls back into Java through hooks: it must never be a critical downcall.
        ucEmuStart = handle(linker, lookup, "uc_emu_start",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        ucEmuStop = handle(linker, lookup, "uc_emu_stop", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        ucEmuStopAddress = lookup.find("uc_emu_stop").orElseThrow();
        // uc_hook_add(uc, hh, type, callback, user_data, begin, end, ...): UC_HOOK_INSN reads one
        // int (the instruction id) from the variadic part; the others read none, so passing it
        // always is harmless and keeps one handle.
        ucHookAdd = handle(linker, lookup, "uc_hook_add",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG,
                        JAVA_INT),
                Linker.Option.firstVariadicArg(7));
        ucHookDel = handle(linker, lookup, "uc_hook_del", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        // uc_ctl(uc, control, ...) is variadic from its third argument.
        ucCtlNoArg = handle(linker, lookup, "uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
                Linker.Option.firstVariadicArg(2));
        ucCtlIntArg = handle(linker, lookup, "uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2));
        ucCtlTwoLongArgs = handle(linker, lookup, "uc_ctl",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(2));
        try (Arena arena = Arena.ofConfined()) {
            int packed = (int) ucVersion.invokeExact(MemorySegment.NULL, MemorySegment.NULL);
            this.version = UnicornVersion.decode(packed);
        } catch (Throwable t) {
            throw new UnicornException("uc_version failed in " + source, t);
        }
        if (version.compareTo(MINIMUM) < 0 || version.major() != 2) {
            throw new UnicornException("tickvm needs Unicorn 2.x (>= " + MINIMUM + "), but " + source + " is "
                    + version, null);
        }
    }

    /**
     * The process-wide library: {@value #LIBRARY_ENV} if set, else the system's libunicorn.so.2.
     * Loaded once.
     */
    public static Unicorn get() {
        Unicorn u = process;
        if (u == null) {
            synchronized (Unicorn.class) {
                u = process;
                if (u == null) {
                    String env = System.getenv(LIBRARY_ENV);
                    u = load(env == null || env.isBlank() ? Optional.empty() : Optional.of(Path.of(env)));
                    process = u;
                }
            }
        }
        return u;
    }

    /** Makes this path the process-wide library; call before the first {@link #get()}. */
    public static synchronized Unicorn useLibrary(Path library) {
        if (process != null && !process.source.equals(library.toString())) {
            throw new IllegalStateException("Unicorn is already loaded from " + process.source);
        }
        if (process == null) {
            process = load(Optional.of(library));
        }
        return process;
    }

    /** Loads a library: the given file, or the system's libunicorn.so.2. */
    public static Unicorn load(Optional<Path> library) {
        if (library.isPresent()) {
            Path path = library.get();
            if (!Files.isReadable(path)) {
                throw new UnicornException("Unicorn library " + path + " does not exist or is not readable", null);
            }
            String notLibrary = notX86_64SharedLibrary(path);
            if (notLibrary != null) {
                // Checked here because the JVM's own loader, handed a non-ELF file, prints two
                // "might have disabled stack guard" warnings before dlopen's error.
                throw new UnicornException("cannot load Unicorn: " + path + " " + notLibrary + "; install Unicorn 2.1.x"
                        + " (./tickvm does) or point " + LIBRARY_ENV + " or --unicorn-lib at libunicorn.so.2", null);
            }
            return new Unicorn(path.toString(), lookup(() -> SymbolLookup.libraryLookup(path, Arena.global()), path.toString()));
        }
        return new Unicorn("libunicorn.so.2",
                lookup(() -> SymbolLookup.libraryLookup("libunicorn.so.2", Arena.global()), "libunicorn.so.2"));
    }

    /**
     * Null when {@code path} starts like an x86-64 shared library (ELF, 64-bit, little-endian,
     * ET_DYN, EM_X86_64), else what it is instead, e.g. "is not a shared library (no ELF header)".
     */
    static String notX86_64SharedLibrary(Path path) {
        if (!Files.isRegularFile(path)) {
            return Files.isDirectory(path) ? "is a directory, not a shared library" : "is not a regular file";
        }
        byte[] header = new byte[20];
        int read;
        try (var in = Files.newInputStream(path)) {
            read = in.readNBytes(header, 0, header.length);
        } catch (java.io.IOException e) {
            return "cannot be read (" + e.getMessage() + ")";
        }
        if (read < 4 || header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F') {
            return "is not a shared library (no ELF header)";
        }
        if (read < header.length) {
            return "is not a shared library (a truncated ELF header)";
        }
        if (header[4] != 2 || header[5] != 1) {
            return "is not a 64-bit little-endian ELF, as x86-64 libraries are";
        }
        int type = (header[16] & 0xff) | (header[17] & 0xff) << 8;
        int machine = (header[18] & 0xff) | (header[19] & 0xff) << 8;
        if (machine != 62) {
            return "is an ELF for another machine (e_machine " + machine + "), not x86-64";
        }
        if (type != 3) {
            return "is not a shared library (ELF type " + type + ", not ET_DYN)";
        }
        return null;
    }

    private static SymbolLookup lookup(java.util.function.Supplier<SymbolLookup> opener, String what) {
        try {
            return opener.get();
        } catch (IllegalArgumentException e) {
            throw new UnicornException("cannot load Unicorn (" + what + "): " + e.getMessage()
                    + "; install Unicorn 2.1.x (./tickvm does) or point " + LIBRARY_ENV + " at libunicorn.so.2", e);
        }
    }

    private static MethodHandle handle(Linker linker, SymbolLookup lookup, String name, FunctionDescriptor fd,
            Linker.Option... options) {
        MemorySegment symbol = lookup.find(name)
                .orElseThrow(() -> new UnicornException("libunicorn has no symbol " + name, null));
        return linker.downcallHandle(symbol, fd, options);
    }

    /**
     * The address of {@code int uc_emu_stop(uc_engine *)} in this library: what a native hook
     * (see {@link Engine#onBlockNative}) calls to stop its engine.
     */
    public MemorySegment emuStopFunction() {
        return ucEmuStopAddress;
    }

    public UnicornVersion version() {
        return version;
    }

    /** Where the library was loaded from. */
    public String source() {
        return source;
    }

    /** Opens a new x86-64 engine. */
    public Engine openX86_64() {
        return new Engine(this);
    }

    /** One line for logs and crash messages, e.g. "Unicorn 2.1.1 (/root/.cache/...)". */
    public String describe() {
        return "Unicorn " + version + " (" + source + ")";
    }

    String strerror(int code) {
        try {
            MemorySegment s = (MemorySegment) ucStrerror.invokeExact(code);
            return s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return "error " + code;
        }
    }

    void check(String operation, int code) {
        if (code != 0) {
            throw new UnicornException(operation, UnicornError.of(code), strerror(code));
        }
    }
}
