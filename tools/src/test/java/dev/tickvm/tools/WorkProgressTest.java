package dev.tickvm.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.images.GuestImages;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Progress of long work in its line mode, on a clock of the test's own: no sleeping, exact lines. */
class WorkProgressTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void aLineOnceTheWorkHasTakenASecondThenOneASecond() {
        List<String> lines = new ArrayList<>();
        long[] now = {5 * SECOND};
        int[] asked = {0};
        WorkProgress p = WorkProgress.lines(lines::add, () -> now[0], SECOND, SECOND);
        p.start("fault-loop");
        now[0] += 999 * MS;
        p.update(10_000, 1L << 30, "blocks", () -> "asked " + ++asked[0]);
        now[0] += MS;
        p.update(20_000, 1L << 30, "blocks", () -> "host time 40 us");
        now[0] += 500 * MS;
        p.update(30_000, 1L << 30, "blocks", () -> "asked " + ++asked[0]);
        now[0] += 500 * MS;
        p.update(536_870_912, 1L << 30, "blocks", () -> "host time 1.074 s");
        now[0] += 1500 * MS;
        p.update(7, 0, "blocks", () -> "");
        p.finish();
        now[0] += 10 * SECOND;
        p.update(8, 0, "blocks", () -> "asked " + ++asked[0]);
        assertAll(
                () -> assertEquals(List.of(
                        "tickvm: fault-loop: 20,000 of 1,073,741,824 blocks (0%), host time 40 us, wall 1 s",
                        "tickvm: fault-loop: 536,870,912 of 1,073,741,824 blocks (50%), host time 1.074 s, wall 2 s",
                        "tickvm: fault-loop: 7 blocks, wall 3.5 s"), lines),
                () -> assertEquals(0, asked[0], "the detail is asked for only when a line is due"));
    }

    @Test
    void eachPieceOfWorkHasItsOwnSecond() {
        List<String> lines = new ArrayList<>();
        long[] now = {0};
        WorkProgress p = WorkProgress.lines(lines::add, () -> now[0], SECOND, SECOND);
        p.start("a");
        now[0] += 900 * MS;
        p.update(1, 2, "steps", () -> "");
        p.start("b");
        now[0] += 900 * MS;
        p.update(1, 2, "steps", () -> "");
        now[0] += 100 * MS;
        p.update(2, 2, "steps", () -> "last");
        assertEquals(List.of("tickvm: b: 2 of 2 steps (100%), last, wall 1 s"), lines);
    }

    @Test
    void offShowsNothing() {
        WorkProgress.OFF.start("x");
        WorkProgress.OFF.update(1, 1, "blocks", () -> {
            throw new AssertionError("asked");
        });
        WorkProgress.OFF.close();
    }

    /** A clock that moves a second on every reading: every turn of a run is a line due. */
    private static WorkProgress everyTurn(List<String> lines) {
        long[] now = {0};
        return WorkProgress.lines(lines::add, () -> now[0] += SECOND, 0, SECOND);
    }

    @Test
    void aRunWithProgressIsTheSameRun() {
        List<String> lines = new ArrayList<>();
        ByteArrayOutputStream plainSerial = new ByteArrayOutputStream();
        ByteArrayOutputStream watchedSerial = new ByteArrayOutputStream();
        GuestRun.Result plain = new GuestRun(GuestImages.require("counter")).budget(3_000_000).run(plainSerial::write);
        GuestRun.Result watched = new GuestRun(GuestImages.require("counter")).budget(3_000_000)
                .runProgress(everyTurn(lines)).run(watchedSerial::write);
        String serial = plainSerial.toString(StandardCharsets.UTF_8);
        assertAll(
                () -> assertTrue(serial.contains("counter: vcpu 0 step"), serial),
                () -> assertEquals(serial, watchedSerial.toString(StandardCharsets.UTF_8)),
                () -> assertEquals(plain.exit(), watched.exit()),
                () -> assertEquals(plain.summary("virtual").replaceAll(", wall .*", ""),
                        watched.summary("virtual").replaceAll(", wall .*", "")),
                () -> assertEquals(plain.blocks(), watched.blocks()),
                () -> assertEquals(plain.hostNanos(), watched.hostNanos()),
                () -> assertFalse(lines.isEmpty()),
                () -> assertTrue(lines.getFirst().matches("tickvm: counter: [0-9,]+ of 3,000,000 blocks \\(0%\\),"
                        + " host time [0-9.,]+ [mun]?s, wall 1 s"), lines.getFirst()),
                () -> assertTrue(lines.getLast().endsWith(", wall " + lines.size() + " s"), lines.getLast()));
    }

    @Test
    void aRunUntilASaveTimeSaysSo() throws Exception {
        List<String> lines = new ArrayList<>();
        new GuestRun(GuestImages.require("fault-loop")).budget(100_000).runProgress(everyTurn(lines))
                .run(b -> { }, TimeUnit.MILLISECONDS.toNanos(1), null);
        assertEquals("tickvm: fault-loop: 10,000 of 100,000 blocks (10%), host time 21.45 us of 1 ms, wall 1 s",
                lines.getFirst());
    }
}
