package dev.tickvm.unicorn;

/**
 * Called when the guest touches unmapped memory, before Unicorn gives up with READ/WRITE/
 * FETCH_UNMAPPED. {@code access} is Unicorn's uc_mem_type (16 read, 17 write, 18 fetch).
 */
@FunctionalInterface
public interface UnmappedAccessHook {
    void onUnmapped(int access, long address, int size);
}
