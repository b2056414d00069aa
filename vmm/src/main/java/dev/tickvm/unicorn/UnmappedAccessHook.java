package dev.tickvm.unicorn;

/**
 * Called when the guest touches unmapped memory, before Unicorn gives up with READ/WRITE/
 * FETCH_UNMAPPED, and when it touches memory its mapping's permissions refuse, before Unicorn
 * gives up with READ/WRITE/FETCH_PROT. {@code access} is Unicorn's uc_mem_type.
 */
@FunctionalInterface
public interface UnmappedAccessHook {
    void onUnmapped(int access, long address, int size);
}
