package dev.tickvm.unicorn;

/** Called before each translated block runs (UC_HOOK_BLOCK). Hot: keep it to a few field updates. */
@FunctionalInterface
public interface BlockHook {
    void onBlock(long address, int size);
}
