package dev.tickvm.tools;

import picocli.CommandLine.Option;

/**
 * {@code --no-progress}, shared by the commands whose work can take long (run, restore, scenario):
 * their progress on stderr once something has taken more than a second.
 */
public final class ProgressOptions {

    @Option(names = "--no-progress",
            description = "Show no progress on stderr (by default anything taking over a second shows it: a bar on a"
                    + " terminal, else a line a second; never anything on stdout).")
    boolean noProgress;

    /** Progress of long work on stderr, or {@link WorkProgress#OFF} with --no-progress. */
    public WorkProgress work() {
        return WorkProgress.stderr(!noProgress);
    }

    /** As {@link #work()}, the lines going to {@code err} (flushed each), the command's stderr. */
    public WorkProgress work(java.io.PrintWriter err) {
        return WorkProgress.stderr(!noProgress, line -> {
            err.println(line);
            err.flush();
        });
    }

    /** Progress of a long save or restore ("saving", "restoring") on stderr, or none with --no-progress. */
    dev.tickvm.snapshot.Progress snapshot(String task) {
        return noProgress ? dev.tickvm.snapshot.Progress.NONE : Progress.bar(task);
    }
}
