package dev.tickvm.tools;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long save or restore on stderr, shown only once it has taken more than a second:
 * a bar on a terminal, a line every second otherwise (nothing on stdout, which carries the guest's
 * serial output).
 */
final class Progress implements dev.tickvm.snapshot.Progress {
    private static final long QUIET_NANOS = TimeUnit.SECONDS.toNanos(1);
    private final String task;
    private final PrintStream err;
    private final long start = System.nanoTime();
    private ProgressBar bar;

    private Progress(String task, PrintStream err) {
        this.task = task;
        this.err = err;
    }

    /** Progress of {@code task} ("saving", "restoring") on stderr. */
    static Progress bar(String task) {
        return new Progress(task, System.err);
    }

    @Override
    public void update(long bytesDone, long bytesTotal) {
        if (bar == null) {
            if (bytesDone >= bytesTotal || System.nanoTime() - start < QUIET_NANOS) {
                return;
            }
            boolean terminal = WorkProgress.terminal();
            bar = new ProgressBarBuilder().setTaskName("tickvm: " + task).setInitialMax(bytesTotal)
                    .setUnit(" MiB", 1 << 20).showSpeed().setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(terminal ? 200 : 1000)
                    .setConsumer(terminal ? new ConsoleProgressBarConsumer(err)
                            : new DelegatingProgressBarConsumer(err::println))
                    .build();
        }
        bar.stepTo(bytesDone);
        if (bytesDone >= bytesTotal) {
            bar.close();
        }
    }
}
