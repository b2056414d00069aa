package dev.tickvm.tools;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of long work (a guest run, a scenario step) on stderr, shown only once a piece of work
 * has taken more than a second of wall time: a bar on a terminal, otherwise a line every second,
 * e.g. {@code tickvm: fault-loop: 52,340,000 of 1,073,741,824 blocks (4%), host time 104.68 ms
 * virtual, wall 1 s}. Never on stdout, which carries the guest's serial output or a report.
 *
 * <p>The work calls {@link #update} as often as it likes (after every scheduling turn, say): it
 * costs a clock read until something is due. Everything runs on the caller's thread but the
 * bar's redrawing, so the line mode is exact and testable with {@link #lines}, a clock and a
 * threshold of one's own.
 */
public final class WorkProgress implements AutoCloseable {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    /** How often the bar mode hands the bar new numbers. */
    private static final long BAR_UPDATE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** Shows nothing. */
    public static final WorkProgress OFF = new WorkProgress(null, null, System::nanoTime, Long.MAX_VALUE, SECOND);

    /** The line sink, or null for a bar on {@link #terminal}. */
    private final Consumer<String> lines;
    private final PrintStream terminal;
    private final LongSupplier nanoTime;
    private final long afterNanos;
    private final long everyNanos;
    private String task;
    private long start;
    /** When the next line (or the next bar update) is due, on {@link #nanoTime}. */
    private long due;
    private ProgressBar bar;
    private ConsoleProgressBarConsumer barConsumer;
    private long barMax;

    private WorkProgress(Consumer<String> lines, PrintStream terminal, LongSupplier nanoTime, long afterNanos,
            long everyNanos) {
        this.lines = lines;
        this.terminal = terminal;
        this.nanoTime = nanoTime;
        this.afterNanos = afterNanos;
        this.everyNanos = everyNanos;
    }

    /**
     * Progress on stderr, or {@link #OFF} if not {@code enabled}: a bar if the console is a
     * terminal, else a line per second.
     */
    public static WorkProgress stderr(boolean enabled) {
        return stderr(enabled, System.err::println);
    }

    /** As {@link #stderr(boolean)}, the lines (not on a terminal) going to {@code lines}, a command's stderr. */
    public static WorkProgress stderr(boolean enabled, Consumer<String> lines) {
        if (!enabled) {
            return OFF;
        }
        return terminal() ? new WorkProgress(null, System.err, System::nanoTime, SECOND, SECOND)
                : lines(lines, System::nanoTime, SECOND, SECOND);
    }

    /** Whether the console is an interactive terminal (since Java 22 System.console() is there even when not). */
    static boolean terminal() {
        return System.console() != null && System.console().isTerminal();
    }

    /**
     * Progress as lines to {@code sink}: the first once a piece of work has taken {@code afterNanos}
     * on {@code nanoTime}, then one each {@code everyNanos}.
     */
    public static WorkProgress lines(Consumer<String> sink, LongSupplier nanoTime, long afterNanos, long everyNanos) {
        return new WorkProgress(sink, null, nanoTime, afterNanos, everyNanos);
    }

    /** Starts a piece of work named {@code task} (e.g. "fault-loop"), ending the one before. */
    public void start(String task) {
        if (this == OFF) {
            return;
        }
        finish();
        this.task = task;
        this.start = nanoTime.getAsLong();
        this.due = afterNanos > Long.MAX_VALUE - start ? Long.MAX_VALUE : start + afterNanos;
    }

    /**
     * Where the work is: {@code done} of {@code total} {@code unit} ({@code total} <= 0: not known)
     * and what else to say, asked for only when something is shown.
     */
    public void update(long done, long total, String unit, Supplier<String> detail) {
        if (task == null) {
            return;
        }
        long now = nanoTime.getAsLong();
        if (now - due < 0) {
            return;
        }
        if (lines != null) {
            lines.accept(line(done, total, unit, detail.get(), now - start));
            due = now + everyNanos;
            return;
        }
        if (bar == null) {
            barMax = total > 0 ? total : -1;
            // Millions once the numbers are long, to leave the bar some of the terminal's width.
            boolean millions = Math.max(done, total) >= 10_000_000;
            bar = new ProgressBarBuilder().setTaskName("tickvm: " + task).setInitialMax(barMax)
                    .setUnit(millions ? "M " + unit : " " + unit, millions ? 1_000_000 : 1)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).clearDisplayOnFinish()
                    .setConsumer(barConsumer = new ConsoleProgressBarConsumer(terminal)).build();
        }
        if (total > 0 && total != barMax) {
            barMax = total;
            bar.maxHint(total);
        }
        bar.stepTo(done);
        if (total <= 0) {
            // Only where there is no bar to draw: a terminal's width is not enough for both.
            bar.setExtraMessage(detail.get());
        }
        due = now + BAR_UPDATE_NANOS;
    }

    /**
     * Something else is about to go to the terminal (a scenario's step line on stdout): the bar's
     * line is cleared, the cursor left at its start; the bar comes back on the next line at its
     * next redraw. Nothing to do for lines.
     */
    public void interrupt() {
        if (bar != null) {
            barConsumer.clear();
            terminal.print('\r');
            terminal.flush();
        }
    }

    /** The piece of work is over: its bar (if any) goes away. */
    public void finish() {
        task = null;
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    @Override
    public void close() {
        finish();
    }

    /** One line of the line mode. */
    private String line(long done, long total, String unit, String detail, long wallNanos) {
        StringBuilder b = new StringBuilder("tickvm: ").append(task).append(": ");
        b.append(String.format(Locale.ROOT, "%,d", done));
        if ((total > 0 ? total : done) == 1 && unit.endsWith("s")) {
            unit = unit.substring(0, unit.length() - 1); // "1 guest block", "1 of 1 row"
        }
        if (total > 0) {
            b.append(String.format(Locale.ROOT, " of %,d %s (%d%%)", total, unit,
                    (long) Math.floor(100.0 * Math.min(done, total) / total)));
        } else {
            b.append(' ').append(unit);
        }
        if (detail != null && !detail.isEmpty()) {
            b.append(", ").append(detail);
        }
        return b.append(", wall ").append(Durations.format(wallNanos)).toString();
    }
}
