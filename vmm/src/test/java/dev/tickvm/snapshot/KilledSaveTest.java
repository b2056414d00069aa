package dev.tickvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a child JVM that is saving snapshots at random moments and checks, each time, that the
 * file still holds a complete snapshot of the last generation the child committed (or of the one
 * it had just renamed into place when it died), and that at most one dead save's temporary file
 * is left over. The delays come from a seeded Random; waiting for the child with a timeout is
 * that delay, not a sleep hoping for something to happen.
 */
class KilledSaveTest {
    private static final int KILLS = 50;
    /** A save of this 16 MiB snapshot takes about 80 ms here (JVM start about 120): kills land anywhere in two saves or so. */
    private static final int MAX_DELAY_MS = 200;
    /** Guards against a child that never gets going; they take well under a second. */
    private static final long READY_GUARD_SECONDS = 30;

    @TempDir
    Path dir;

    @Test
    void aKillAtAnyMomentLeavesTheLastCommittedSnapshotIntact() throws Exception {
        Path target = dir.resolve("vm.tvm");
        long committed = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(Generations.RAM_SIZE, Fixtures.PAGE);
            Generations.fill(ram, 0);
            Snapshot.save(target, Generations.contents(ram, 0));
        }
        Random random = new Random(20261126);
        int killedMidSave = 0;
        int advanced = 0;
        for (int kill = 0; kill < KILLS; kill++) {
            Path out = dir.resolve("child.out");
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:+UseSerialGC", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-Xmx256m", "-XX:-CreateCoredumpOnCrash",
                    "-XX:ErrorFile=" + dir.resolve("hs_err_pid%p.log"), "-cp", System.getProperty("java.class.path"), SaveLoop.class.getName(), target.toString(),
                    Long.toString(committed + 1))
                    .redirectOutput(out.toFile()).start();
            try (BufferedReader err = new BufferedReader(new InputStreamReader(child.getErrorStream(), StandardCharsets.UTF_8))) {
                awaitReady(child, err);
                long delay = random.nextInt(MAX_DELAY_MS);
                if (child.waitFor(delay, TimeUnit.MILLISECONDS)) {
                    fail("the child ended by itself: " + Files.readString(out));
                }
                child.destroyForcibly();
                child.waitFor();
            }
            List<String> lines = Files.readAllLines(out);
            long lastSaved = lines.isEmpty() ? committed : Long.parseLong(lines.getLast().substring("saved ".length()));
            long found = verify(target);
            // Killed after the rename but before it could print: one more than it said.
            assertTrue(found == lastSaved || found == lastSaved + 1,
                    "kill " + kill + ": generation " + found + " in the file, the child last said " + lines);
            if (found > committed) {
                advanced++;
            }
            committed = found;
            List<Path> leftovers = temporaries(target);
            assertTrue(leftovers.size() <= 1, "kill " + kill + ": " + leftovers);
            if (!leftovers.isEmpty()) {
                killedMidSave++;
            }
        }
        System.out.printf("KilledSaveTest: %d kills, %d in the middle of a save, %d after a new generation was committed; "
                + "last generation %d%n", KILLS, killedMidSave, advanced, committed);
        assertTrue(killedMidSave > 0, "no kill hit a save in progress");
        assertTrue(advanced > 0, "no child got to commit a generation");

        // The next save cleans up what the last dead one left.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(Generations.RAM_SIZE, Fixtures.PAGE);
            Generations.fill(ram, committed + 1);
            Snapshot.save(target, Generations.contents(ram, committed + 1));
        }
        assertEquals(List.of(), temporaries(target));
        assertEquals(committed + 1, verify(target));
    }

    private static void awaitReady(Process child, BufferedReader err) throws Exception {
        Thread guard = Thread.ofVirtual().start(() -> {
            try {
                if (!child.waitFor(READY_GUARD_SECONDS, TimeUnit.SECONDS)) {
                    child.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        String line = err.readLine();
        guard.interrupt();
        if (!"ready".equals(line)) {
            child.destroyForcibly().waitFor();
            StringBuilder rest = new StringBuilder();
            for (String l = err.readLine(); l != null; l = err.readLine()) {
                rest.append(l).append('\n');
            }
            fail("the child did not start: " + line + "\n" + rest);
        }
    }

    /** Opens and checks the whole snapshot against the generation its header names; returns that generation. */
    private static long verify(Path target) throws Exception {
        try (Snapshot s = Snapshot.open(target); Arena arena = Arena.ofConfined()) {
            long g = s.header().times().trueNanos();
            assertEquals(Fixtures.header(Generations.VCPUS, Generations.RAM_SIZE, g), s.header());
            for (int i = 0; i < Generations.VCPUS; i++) {
                assertEquals(g, Fixtures.readComponent(s.section(SectionType.VCPU, i).orElseThrow(), "vcpu", i));
                assertEquals(g, Fixtures.readComponent(s.section(SectionType.KVM_VCPU, i).orElseThrow(), "kvm-vcpu", i));
            }
            assertEquals(g, Fixtures.readComponent(s.section(SectionType.DEVICES, 0).orElseThrow(), "devices", 0));
            MemorySegment expected = arena.allocate(Generations.RAM_SIZE, Fixtures.PAGE);
            Generations.fill(expected, g);
            assertEquals(-1, s.readRam(arena, Progress.NONE).mismatch(expected), "RAM of generation " + g);
            return g;
        }
    }

    private List<Path> temporaries(Path target) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> !p.equals(target) && !p.getFileName().toString().equals("child.out")).toList();
        }
    }
}
