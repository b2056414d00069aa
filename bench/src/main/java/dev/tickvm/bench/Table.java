package dev.tickvm.bench;

import dev.tickvm.unicorn.Unicorn;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs tickvm's benchmarks through JMH and prints one table: for each benchmark the median of its
 * measurement iterations and their range (min to max), and the figures derived from the medians
 * (a trap's own cost, the block hook's cost per block). The median, not JMH's mean: on a small
 * shared VM an iteration is sometimes much slower than its neighbours, never much faster. Used by
 * bench/run; {@code java -jar benchmarks.jar} is plain JMH instead.
 *
 * <p>Arguments: {@code --quick} (1 warmup and 2 measurement iterations: a smoke run, not for
 * numbers), {@code --log FILE} (JMH's own output goes there instead of the console), and
 * optionally regexes selecting benchmarks, as JMH's include.
 */
public final class Table {
    private static final String ALL = "dev\\.tickvm\\.bench\\..*";

    /** Median, min and max of the measurement iterations' scores. */
    private record Score(double median, double min, double max) {
    }

    private final Map<String, Score> results;
    private final List<Pattern> includes;
    private final String log;
    private int missing;

    private Table(Map<String, Score> results, List<Pattern> includes, String log) {
        this.results = results;
        this.includes = includes;
        this.log = log;
    }

    public static void main(String[] args) throws RunnerException {
        boolean quick = false;
        String log = null;
        List<String> includes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--log" -> log = args[++i];
                default -> includes.add(args[i]);
            }
        }
        if (includes.isEmpty()) {
            includes.add(ALL);
        }
        ChainedOptionsBuilder options = new OptionsBuilder();
        includes.forEach(options::include);
        if (quick) {
            options.warmupIterations(1).measurementIterations(2);
        }
        if (log != null) {
            options.output(log);
            System.out.println("running the benchmarks (JMH, one fork each; its output: " + log + ") ...");
        }
        Collection<RunResult> runs = new Runner(options.build()).run();
        Table table = new Table(byKey(runs), includes.stream().map(Pattern::compile).toList(), log);
        table.print(quick);
        if (table.missing > 0) {
            System.exit(1);
        }
    }

    /** Score of each run, keyed "Class.method" plus ":param" for each parameter. */
    private static Map<String, Score> byKey(Collection<RunResult> runs) {
        Map<String, Score> map = new HashMap<>();
        for (RunResult r : runs) {
            String benchmark = r.getParams().getBenchmark();
            StringBuilder key = new StringBuilder(
                    benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1) + 1));
            for (String p : r.getParams().getParamsKeys()) {
                key.append(':').append(r.getParams().getParam(p));
            }
            List<Double> scores = new ArrayList<>();
            for (BenchmarkResult b : r.getBenchmarkResults()) {
                for (IterationResult i : b.getIterationResults()) {
                    scores.add(i.getPrimaryResult().getScore());
                }
            }
            scores.sort(null);
            int n = scores.size();
            double median = n % 2 == 1 ? scores.get(n / 2) : (scores.get(n / 2 - 1) + scores.get(n / 2)) / 2;
            map.put(key.toString(), new Score(median, scores.getFirst(), scores.getLast()));
        }
        return map;
    }

    private void print(boolean quick) {
        System.out.println();
        String cpus = System.getProperty("tickvm.bench.cpus", Runtime.getRuntime().availableProcessors() + " CPUs");
        System.out.printf("tickvm benchmarks, %s: %s, Java %s, %s%s%n", LocalDate.now(),
                Unicorn.get().describe().replaceFirst(" \\(.*", ""), Runtime.version(), cpus,
                quick ? " (QUICK RUN: not for numbers)" : "");
        String line = "-".repeat(99);
        System.out.println(line);
        System.out.printf("%-60s %20s %17s%n", "what", "median", "range");
        System.out.println(line);
        row("TrapBench.loopIteration:PATCH", "rdtsc;dec;jnz loop, PATCH (INT n, emulated in the hook)", 1, "ns/iter");
        row("TrapBench.loopIteration:FAULT", "rdtsc;dec;jnz loop, FAULT (#GP, uc_emu_start per trap)", 1, "ns/iter");
        row("TrapBench.loopIteration:NOP", "same loop, 2-byte NOP instead of RDTSC (baseline)", 1, "ns/iter");
        difference("TrapBench.loopIteration:PATCH", "TrapBench.loopIteration:NOP",
                "=> one trapped RDTSC, PATCH mode (loop minus baseline)");
        difference("TrapBench.loopIteration:FAULT", "TrapBench.loopIteration:NOP",
                "=> one trapped RDTSC, FAULT mode (loop minus baseline)");
        row("TrapBench.loopIteration:PATCH-java", "rdtsc;dec;jnz loop, PATCH, Java block hook", 1, "ns/iter");
        row("TrapBench.loopIteration:NOP-java", "same loop, NOP, Java block hook (baseline)", 1, "ns/iter");
        difference("TrapBench.loopIteration:PATCH-java", "TrapBench.loopIteration:NOP-java",
                "=> one trapped RDTSC, PATCH mode, Java block hook");
        row("TraceBench.loopIteration:off", "same loop, PATCH, RDTSC by the kvm layer, trace off", 1, "ns/iter");
        row("TraceBench.loopIteration:null-sink", "same loop, PATCH, kvm layer, trace on into a null sink", 1, "ns/iter");
        row("TraceBench.loopIteration:lines", "same loop, PATCH, kvm layer, every line formatted, dropped", 1, "ns/iter");
        difference("TraceBench.loopIteration:null-sink", "TraceBench.loopIteration:off",
                "=> one traced trap, event built and dropped (on minus off)");
        difference("TraceBench.loopIteration:lines", "TraceBench.loopIteration:off",
                "=> one traced trap, line formatted and dropped (minus off)");
        row("RdtscLoopImageBench.reading", "rdtsc-loop image, per reading (PATCH, boot included)", 1, "ns/reading");
        System.out.println(line);
        row("GuestSpeedBench.instructions:machine", "guest instr/s, Machine, 1 vCPU, native block hook", 1e-6, "M/s");
        row("GuestSpeedBench.instructions:machine-java", "guest instr/s, Machine, 1 vCPU, Java block hook", 1e-6, "M/s");
        row("GuestSpeedBench.instructions:raw", "guest instr/s, bare Engine, no block hook (off)", 1e-6, "M/s");
        row("GuestSpeedBench.instructions:raw+empty-hook", "guest instr/s, bare Engine + empty Java block hook", 1e-6, "M/s");
        ratio("GuestSpeedBench.instructions:machine", "GuestSpeedBench.instructions:machine-java",
                "=> native hook / Java hook, guest speed");
        ratio("GuestSpeedBench.instructions:machine", "GuestSpeedBench.instructions:raw",
                "=> native hook / bare engine, guest speed");
        ratio("GuestSpeedBench.instructions:machine-java", "GuestSpeedBench.instructions:raw",
                "=> Java hook / bare engine, guest speed");
        perBlock("GuestSpeedBench.instructions:raw+empty-hook", "=> empty Java block-hook upcall, per block");
        perBlock("GuestSpeedBench.instructions:machine", "=> native block hook + scheduler, per block");
        perBlock("GuestSpeedBench.instructions:machine-java", "=> Java block hook + scheduler, per block");
        System.out.println(line);
        row("EngineBench.emptyStart", "uc_emu_start round trip, nothing executed", 1, "ns");
        row("EngineBench.outAndStop", "uc_emu_start round trip, one OUT whose hook stops", 1, "ns");
        System.out.println(line);
        Map<String, String> operations = new java.util.LinkedHashMap<>();
        operations.put("save", "snapshot save");
        operations.put("restore", "snapshot restore");
        operations.put("restoreInto", "restore into allocated RAM");
        for (Map.Entry<String, String> operation : operations.entrySet()) {
            for (String content : List.of("sparse", "random")) {
                for (int mib : List.of(16, 64, 256)) {
                    throughput("SnapshotBench." + operation.getKey() + ":" + content + ":" + mib, String.format("%s, %d MiB, %s",
                            operation.getValue(), mib, content.equals("sparse") ? "1 page in 32 non-zero" : "all random"), mib);
                }
            }
        }
        System.out.println(line);
        if (missing > 0) {
            System.out.println(missing + " benchmark(s) gave no result: they failed"
                    + (log != null ? "; see " + log : "; see JMH's output above"));
        }
    }

    private boolean included(String key) {
        String name = "dev.tickvm.bench." + key.replaceFirst(":.*", "");
        return includes.stream().anyMatch(p -> p.matcher(name).find());
    }

    private Score result(String key, String what) {
        Score r = results.get(key);
        if (r == null && included(key)) {
            missing++;
            System.out.printf("%-60s %20s%n", what, "FAILED");
        }
        return r;
    }

    private void row(String key, String what, double scale, String unit) {
        Score r = result(key, what);
        if (r != null) {
            System.out.printf("%-60s %8s %-11s %8s-%-8s%n", what, format(r.median() * scale), unit, format(r.min() * scale),
                    format(r.max() * scale));
        }
    }

    /** A ms/operation score shown as MB/s (10^6 bytes) of guest RAM; the fastest iteration is the top of the range. */
    private void throughput(String key, String what, int ramMiB) {
        Score r = result(key, what);
        if (r != null) {
            double mb = (ramMiB << 20) / 1e6;
            System.out.printf("%-60s %8s %-11s %8s-%-8s%n", what, format(mb / r.median() * 1e3), "MB/s",
                    format(mb / r.max() * 1e3), format(mb / r.min() * 1e3));
        }
    }

    /** Difference of two ns/iteration medians. */
    private void difference(String key, String baseline, String what) {
        Score r = results.get(key);
        Score b = results.get(baseline);
        if (r != null && b != null) {
            System.out.printf("%-60s %8s %-11s%n", what, format(r.median() - b.median()), "ns");
        }
    }

    /** The ratio of two medians, e.g. 8.1x. */
    private void ratio(String key, String baseline, String what) {
        Score r = results.get(key);
        Score b = results.get(baseline);
        if (r != null && b != null) {
            System.out.printf("%-60s %8s %-11s%n", what, format(r.median() / b.median()), "x");
        }
    }

    /** ns per block above the bare engine without hooks (2 instructions are one block here). */
    private void perBlock(String key, String what) {
        Score r = results.get(key);
        Score raw = results.get("GuestSpeedBench.instructions:raw");
        if (r != null && raw != null) {
            System.out.printf("%-60s %8s %-11s%n", what, format(2e9 / r.median() - 2e9 / raw.median()), "ns");
        }
    }

    private static String format(double v) {
        double a = Math.abs(v);
        return a >= 100 ? String.format("%.0f", v) : a >= 10 ? String.format("%.1f", v) : String.format("%.2f", v);
    }
}
