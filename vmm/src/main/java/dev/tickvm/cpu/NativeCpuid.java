package dev.tickvm.cpu;

import dev.tickvm.memory.GuestMemory;
import dev.tickvm.unicorn.CpuModel;
import dev.tickvm.unicorn.Engine;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.unicorn.UnicornError;
import dev.tickvm.unicorn.X86Register;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the emulated CPU model itself answers to CPUID, asked once on a scratch engine at CPL0,
 * so that the hypervisor can return those values with its own bits added (KVM filters and
 * extends the host's CPUID the same way). Unicorn's CPUID hook runs before the instruction, so
 * the native answer cannot be edited on the fly.
 */
public final class NativeCpuid {
    private static final Map<String, int[]> CACHE = new ConcurrentHashMap<>();
    private static final long CODE = 0x1000;
    private static final byte[] CPUID = {0x0f, (byte) 0xa2};

    private NativeCpuid() {
    }

    /** {eax, ebx, ecx, edx} for this leaf and subleaf on the model vCPUs use. */
    public static int[] query(Unicorn unicorn, int leaf, int subleaf) {
        String key = unicorn.source() + "/" + leaf + "/" + subleaf;
        return CACHE.computeIfAbsent(key, k -> run(unicorn, leaf, subleaf)).clone();
    }

    private static int[] run(Unicorn unicorn, int leaf, int subleaf) {
        try (GuestMemory memory = new GuestMemory(GuestMemory.MIN_SIZE); Engine engine = unicorn.openX86_64()) {
            engine.setCpuModel(CpuModel.HASWELL);
            engine.mapHostMemory(0, memory.segment());
            memory.write(CODE, CPUID);
            engine.write(X86Register.RAX, leaf & 0xffff_ffffL);
            engine.write(X86Register.RCX, subleaf & 0xffff_ffffL);
            UnicornError error = engine.start(CODE, CODE + CPUID.length);
            if (error != UnicornError.OK) {
                throw new IllegalStateException("native CPUID leaf 0x" + Integer.toHexString(leaf) + " failed: " + error);
            }
            return new int[] {(int) engine.read(X86Register.RAX), (int) engine.read(X86Register.RBX),
                (int) engine.read(X86Register.RCX), (int) engine.read(X86Register.RDX)};
        }
    }
}
