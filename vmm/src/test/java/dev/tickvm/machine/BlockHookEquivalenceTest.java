package dev.tickvm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tickvm.cpu.BlockHookKind;
import dev.tickvm.cpu.NativeBlockHook;
import dev.tickvm.cpu.Vcpu;
import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
import dev.tickvm.testing.Guests;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The native block hook and the Java one do the same thing (issue 12): every catalogue image,
 * and the hand-made guests that stress what the hook does (quanta, I/O stops, code pages), end
 * bit for bit the same under either: the exit, every vCPU's blocks, traps, registers and run
 * state, the virtual clock, the serial output and the whole of guest RAM.
 */
class BlockHookEquivalenceTest {

    @Test
    void theNativeHookIsBuiltAndChosenByDefault() {
        assertTrue(NativeBlockHook.available(), "the build makes it: " + NativeBlockHook.problem());
        try (Machine m = Guests.builder(Guests.hex("f4"), new Guests.Capture()).build()) {
            // ./test may run the whole suite with TICKVM_BLOCK_HOOK=java: then that is the default.
            assertEquals(BlockHookKind.configured(), m.blockHook());
            assertEquals(m.blockHook(), m.vcpus().getFirst().blockHook());
        }
        try (Machine m = Guests.builder(Guests.hex("f4"), new Guests.Capture()).blockHook(BlockHookKind.JAVA).build()) {
            assertEquals(BlockHookKind.JAVA, m.vcpus().getFirst().blockHook());
        }
    }

    static Stream<String> images() {
        return GuestImages.catalogue().stream().map(GuestImage::name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void aCatalogueImageRunsTheSameUnderEitherHook(String name) {
        GuestImage image = GuestImages.require(name);
        // A small quantum: many turns, so that quanta are cut in the same places or not at all.
        assertSame(builder -> Guests.builder(image, builder).quantum(97).budget(3_000_000));
    }

    /** Cross-modifying code (code pages), a chain over more pages than are copied, and OUT stops. */
    @Test
    void codePagesAndStopsWorkTheSameUnderEitherHook() {
        byte[] crossModifying = Guests.hex("85ff 750c e80f000000 83f801 74f6 e7f4 c6050200000002 f4 b801000000 c3");
        assertSame(capture -> Guests.builder(crossModifying, capture).vcpus(2).quantum(13).budget(1_000_000));
        byte[] chain = new byte[1_200 * 4096];
        for (int page = 0; page < 1_199; page++) {
            chain[page * 4096] = (byte) 0xe9; // jmp to the next page
            chain[page * 4096 + 1] = (byte) 0xfb;
            chain[page * 4096 + 2] = (byte) 0x0f;
        }
        chain[1_199 * 4096] = (byte) 0xf4;
        assertSame(capture -> Guests.builder(chain, capture).vcpus(3).memorySize(16 << 20).quantum(500)
                .budget(100_000));
        // Serial OUTs (not flagged) and a flagged exit OUT in one block, then more code.
        byte[] outs = Guests.hex("b041 66baf803 ee ee ee b805000000 e7f4 eb00 f4");
        assertSame(capture -> Guests.builder(outs, capture).vcpus(2).quantum(2));
    }

    /** What can tell two runs apart, as strings, for a readable difference. */
    private static List<String> fingerprint(BuilderFactory factory, BlockHookKind kind) {
        Guests.Capture capture = new Guests.Capture();
        List<String> out = new ArrayList<>();
        try (Machine m = factory.builder(capture).blockHook(kind).build()) {
            assertEquals(kind, m.blockHook());
            out.add("exit " + m.run());
            out.add("clock " + m.clock().nanos());
            out.add("blocks " + m.blocks());
            for (Vcpu v : m.vcpus()) {
                out.add("vCPU " + v.id() + ": blocks " + v.blocks() + ", traps " + v.traps() + "/" + v.patchedTraps()
                        + ", new sites " + v.newSites() + ", stale code " + v.staleCodeInvalidations() + "/"
                        + v.staleCodeFlushes() + ", " + v.runState());
                if (!(v.runState() instanceof dev.tickvm.cpu.VcpuRunState.Faulted)) {
                    out.add("vCPU " + v.id() + " state " + v.saveState());
                }
            }
            out.add("serial " + capture.serial() + " exits " + capture.exitCodes());
            out.add("RAM " + Arrays.hashCode(m.memory().read(0, (int) m.memory().size())));
        }
        return out;
    }

    private static void assertSame(BuilderFactory factory) {
        assumeTrue(NativeBlockHook.available(), NativeBlockHook.problem());
        assertEquals(fingerprint(factory, BlockHookKind.JAVA), fingerprint(factory, BlockHookKind.NATIVE));
    }

    @FunctionalInterface
    private interface BuilderFactory {
        Machine.Builder builder(Guests.Capture capture);
    }
}
