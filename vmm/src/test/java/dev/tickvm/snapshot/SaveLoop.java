package dev.tickvm.snapshot;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * The child of {@link KilledSaveTest}: saves generation after generation into one file, from
 * the one given, until it is killed. Says "ready" on stderr (a pipe the parent waits on) before
 * the first save, and prints "saved N" on stdout (a file, so that no line is lost with the
 * process) after each rename, so the parent knows what was committed.
 */
public final class SaveLoop {
    private SaveLoop() {
    }

    public static void main(String[] args) throws Exception {
        Path target = Path.of(args[0]);
        long first = Long.parseLong(args[1]);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(Generations.RAM_SIZE, Fixtures.PAGE);
            Generations.fill(ram, first);
            System.err.println("ready");
            System.err.flush();
            for (long g = first;; g++) {
                if (g != first) {
                    Generations.fill(ram, g);
                }
                Snapshot.save(target, Generations.contents(ram, g));
                System.out.println("saved " + g);
                System.out.flush();
            }
        }
    }
}
