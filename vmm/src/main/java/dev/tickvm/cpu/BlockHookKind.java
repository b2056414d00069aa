package dev.tickvm.cpu;

import java.util.Locale;

/**
 * Which code runs at the start of every translated block (see {@link BlockState}): the native
 * hook, with no upcall into the JVM, or the Java fallback, about ten times slower on guests made
 * of short blocks. Both do the same thing to the same state, so a guest runs bit for bit the same
 * under either (BlockHookEquivalenceTest).
 */
public enum BlockHookKind {
    NATIVE,
    JAVA;

    /** Names the choice: {@code -Dtickvm.blockHook} or else {@code TICKVM_BLOCK_HOOK}. */
    public static final String PROPERTY = "tickvm.blockHook";
    public static final String ENV = "TICKVM_BLOCK_HOOK";

    /**
     * The hook asked for by {@value #PROPERTY} or {@value #ENV}: {@code native}, {@code java}, or
     * {@code auto} (also when neither is set): native when {@link NativeBlockHook#available()},
     * else Java.
     *
     * @throws IllegalArgumentException for another value, or {@code native} when it is not
     *                                  available (with the reason)
     */
    public static BlockHookKind configured() {
        String value = System.getProperty(PROPERTY);
        String source = "-D" + PROPERTY;
        if (value == null || value.isBlank()) {
            value = System.getenv(ENV);
            source = ENV;
        }
        if (value == null || value.isBlank()) {
            value = "auto";
        }
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "auto" -> NativeBlockHook.available() ? NATIVE : JAVA;
            case "java" -> JAVA;
            case "native" -> {
                if (!NativeBlockHook.available()) {
                    throw new IllegalArgumentException(source + "=native, but the native block hook is not available: "
                            + NativeBlockHook.problem());
                }
                yield NATIVE;
            }
            default -> throw new IllegalArgumentException(source + "=" + value + ": expected auto, native or java");
        };
    }

    /** A phrase for start-up reports: which hook, and why when it is the fallback. */
    public String describe() {
        return switch (this) {
            case NATIVE -> "native";
            case JAVA -> NativeBlockHook.available() ? "Java, as asked (the native one is available)"
                    : "Java (the native one is unavailable: " + NativeBlockHook.problem() + ")";
        };
    }
}
