package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Save in one process, restore in another: the commands a user types, each in its own JVM.
 */
class SnapshotProcessTest {

    @Test
    void aVmSavedMidRunAndRestoredInAnotherProcessPrintsWhatAnUninterruptedRunPrints(@TempDir Path dir)
            throws IOException {
        ChildJvm.Outcome whole = ChildJvm.tickvm(dir, "run", "--image", "counter");
        assertEquals(0, whole.exitCode(), whole::toString);
        assertEquals(399, whole.stdout().lines().count(), "200 lines from vCPU 0, which exits while vCPU 1 is at 199");

        ChildJvm.Outcome first = ChildJvm.tickvm(dir, "run", "--image", "counter", "--save-at", "8ms", "--snapshot",
                "c.tvm");
        assertEquals(0, first.exitCode(), first::toString);
        assertTrue(first.stderr().contains("stopped at 8,009,400 ns of host time, as asked"), first::toString);
        assertTrue(first.stderr().contains("saved to c.tvm"), first::toString);

        ChildJvm.Outcome rest = ChildJvm.tickvm(dir, "restore", "c.tvm");
        assertEquals(0, rest.exitCode(), rest::toString);
        assertAll(
                () -> assertEquals(whole.stdout(), first.stdout() + rest.stdout()),
                () -> assertTrue(first.stdout().lines().count() > 100 && rest.stdout().lines().count() > 100,
                        "saved in the middle of the run"),
                // The two halves ran the blocks and the virtual time of the whole run.
                () -> assertTrue(whole.stderr().contains("8,042,763 blocks, host time 16.573 ms virtual"), whole::toString),
                () -> assertTrue(first.stderr().contains("3,890,000 blocks"), first::toString),
                () -> assertTrue(rest.stderr().contains("4,152,763 blocks, host time 16.573 ms virtual"), rest::toString));
    }

    @Test
    void inspectDescribesTheFileAndItsJsonKeeps64BitValues(@TempDir Path dir) throws IOException {
        ChildJvm.Outcome saved = ChildJvm.tickvm(dir, "run", "--image", "counter", "--save-at", "1ms", "--snapshot",
                "c.tvm");
        assertEquals(0, saved.exitCode(), saved::toString);
        ChildJvm.Outcome text = ChildJvm.tickvm(dir, "inspect", "c.tvm");
        assertEquals(0, text.exitCode(), text::toString);
        assertTrue(text.stdout().contains("2 vCPUs, 16 MiB of RAM"), text::toString);
        assertTrue(text.stdout().contains("ok: the file would restore"), text::toString);
        ChildJvm.Outcome json = ChildJvm.tickvm(dir, "inspect", "c.tvm", "--json");
        assertEquals(0, json.exitCode(), json::toString);
        JsonNode report = new ObjectMapper().readTree(json.stdout());
        assertEquals("1767225600001006600", report.at("/header/hostRealtimeNanos").asText(),
                "the realtime at the save, exact to the ns: a string");
        assertEquals(9, report.at("/sections").size());
        assertTrue(report.at("/ok").asBoolean());

        // One flipped byte: refused, with the section and the check named, and nothing restored.
        byte[] bytes = Files.readAllBytes(dir.resolve("c.tvm"));
        bytes[600] ^= 0x40;
        Files.write(dir.resolve("bad.tvm"), bytes);
        // A --serial file is left as it was (issue 11.6); --serial onto the snapshot is refused.
        Files.writeString(dir.resolve("keep.txt"), "yesterday's output\n");
        ChildJvm.Outcome bad = ChildJvm.tickvm(dir, "restore", "bad.tvm", "--serial", "keep.txt");
        assertEquals(1, bad.exitCode(), bad::toString);
        assertEquals("", bad.stdout());
        assertTrue(bad.stderr().contains("CRC32C"), bad::toString);
        assertEquals("yesterday's output\n", Files.readString(dir.resolve("keep.txt")));
        ChildJvm.Outcome onto = ChildJvm.tickvm(dir, "restore", "c.tvm", "--serial", "c.tvm");
        assertEquals(2, onto.exitCode(), onto::toString);
        assertEquals("tickvm: --serial c.tvm is also the command's input c.tvm; writing the guest's output there"
                + " would destroy it\n", onto.stderr());
        assertEquals(0, ChildJvm.tickvm(dir, "inspect", "c.tvm").exitCode(), "c.tvm intact");
        ChildJvm.Outcome badInspect = ChildJvm.tickvm(dir, "inspect", "bad.tvm");
        assertEquals(1, badInspect.exitCode(), badInspect::toString);
        assertTrue(badInspect.stdout().contains("problem: "), badInspect::toString);
    }
}
