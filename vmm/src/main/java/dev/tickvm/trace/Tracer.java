package dev.tickvm.trace;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Where the kvm layer and the vCPUs send {@link TraceEvent}s (docs/TRACE.md). A hook costs one
 * branch when tracing is off: every call site tests {@link #enabled()} before it builds an event,
 * and {@link #OFF}'s answer is a constant false.
 *
 * <p>A {@code KvmVm} takes {@link #current()} when it is created, so a command that runs its
 * work inside {@code ScopedValue.where(Tracer.CURRENT, tracer)} traces every VM it builds
 * (booted, restored, in a lab or a scenario) without passing the tracer down;
 * {@code KvmVm.setTracer} changes it later. Tracers are called on the VM's scheduler thread.
 */
public interface Tracer {

    /** Tracing off: {@link #enabled()} is false and nothing is recorded. */
    Tracer OFF = new Tracer() {
        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public void record(TraceRecord record) {
        }

        @Override
        public String toString() {
            return "Tracer.OFF";
        }
    };

    /** The tracer new VMs take; {@link #OFF} outside any binding. */
    ScopedValue<Tracer> CURRENT = ScopedValue.newInstance();

    /** The tracer bound to {@link #CURRENT}, or {@link #OFF}. */
    static Tracer current() {
        return CURRENT.orElse(OFF);
    }

    /** Whether hooks should build and record events at all. */
    boolean enabled();

    /** Records one event (called only when {@link #enabled()}). */
    void record(TraceRecord record);

    /** An enabled tracer that drops every event: what tracing costs without the output. */
    static Tracer nullSink() {
        return new Tracer() {
            @Override
            public boolean enabled() {
                return true;
            }

            @Override
            public void record(TraceRecord record) {
            }
        };
    }

    /** Formats the events {@code filter} keeps as lines (without line separator) and gives them to {@code out}. */
    static Tracer lines(TraceFilter filter, Consumer<String> out) {
        Objects.requireNonNull(filter, "filter");
        Objects.requireNonNull(out, "out");
        return new Tracer() {
            @Override
            public boolean enabled() {
                return true;
            }

            @Override
            public void record(TraceRecord record) {
                if (filter.accepts(record.event().name())) {
                    out.accept(record.format());
                }
            }
        };
    }
}
