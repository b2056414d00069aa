package dev.tickvm.tools;

import dev.tickvm.trace.TraceFilter;
import dev.tickvm.trace.Tracer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Stack;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * {@code --trace[=FILTER]} and {@code --trace-file FILE}, shared by the commands that run VMs: a
 * trace of KVM's time events in the format of docs/TRACE.md, on stderr or into a file. Every VM the
 * command builds while {@link #call} runs its work is traced (through {@link Tracer#CURRENT}).
 */
public final class TraceOptions {
    /** What a filter may look like: event names, '*' and commas (a path is never taken for one). */
    private static final Pattern FILTER_WORD = Pattern.compile("[A-Za-z0-9_*, ]*");

    @Option(names = "--trace", arity = "0..1", paramLabel = "FILTER", parameterConsumer = FilterConsumer.class,
            description = {"Trace KVM's time events (docs/TRACE.md) to stderr, one line each as trace-cmd report prints"
                    + " them. FILTER is a comma-separated list of event names or prefixes ending in * (kvm_*,"
                    + " kvm_pvclock_update,kvm_set_clock); all events when omitted. Events: kvm_write_tsc_offset,"
                    + " kvm_update_master_clock, kvm_track_tsc, kvm_pvclock_update, kvm_msr, kvm_set_clock,"
                    + " kvm_get_clock, kvm_request, kvm_request_serviced, tickvm_trap, tickvm_exit. A line is"
                    + " 'TASK [CPU] HOST: EVENT: key=value... true=TRUE', TASK vcpu-N or kvm, HOST the host's"
                    + " CLOCK_MONOTONIC and TRUE true time, both in seconds with 9 decimals."})
    String filter;

    @Option(names = "--trace-file", paramLabel = "FILE",
            description = "Write the trace to FILE instead of stderr (implies --trace).")
    Path file;

    /** Whether a trace was asked for. */
    public boolean tracing() {
        return filter != null || file != null;
    }

    /**
     * Runs {@code work} with the trace asked for bound as {@link Tracer#CURRENT} (nothing bound
     * without one), writing to {@code stderr} or the file, which is flushed and closed afterwards.
     */
    public <T> T call(PrintWriter stderr, Callable<T> work) throws Exception {
        if (!tracing()) {
            return work.call();
        }
        TraceFilter f = TraceFilter.parse(filter == null ? "*" : filter);
        Writer out = file == null ? stderr : Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        Writer buffered = out instanceof BufferedWriter || out instanceof PrintWriter ? out : new BufferedWriter(out);
        try {
            Tracer tracer = Tracer.lines(f, line -> {
                try {
                    buffered.write(line);
                    buffered.write('\n');
                    if (file == null) {
                        // Lines on stderr come out in step with the command's own output.
                        buffered.flush();
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return ScopedValue.where(Tracer.CURRENT, tracer).call(work::call);
        } finally {
            if (file == null) {
                buffered.flush();
            } else {
                buffered.close();
            }
        }
    }

    /** Takes the next argument as FILTER only when it looks like one: {@code --trace FILE.tvs} leaves the file alone. */
    static final class FilterConsumer implements CommandLine.IParameterConsumer {
        @Override
        public void consumeParameters(Stack<String> args, ArgSpec argSpec, CommandSpec commandSpec) {
            String value = "*";
            if (!args.isEmpty() && !args.peek().startsWith("-") && FILTER_WORD.matcher(args.peek()).matches()
                    && !commandSpec.subcommands().containsKey(args.peek())) {
                value = args.pop();
            }
            argSpec.setValue(value);
        }
    }
}
