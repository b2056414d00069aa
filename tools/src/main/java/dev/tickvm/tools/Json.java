package dev.tickvm.tools;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickvm.vm.VirtualMachine;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How every {@code --json} report is written (docs/JSON.md). One rule for integers: a 64-bit
 * quantity (a Java {@code long}: TSC values, nanoseconds, offsets, MSR values, sizes) is always a
 * JSON string of its decimal value, whatever its size, so that no double-based JSON reader
 * rounds it and a field's type never depends on its value; unsigned 64-bit values (MSRs, TSCs)
 * are written unsigned ({@link #unsigned}). Only 32-bit integers (counts, indexes, line numbers,
 * exit codes) are JSON numbers. Every report is one object that starts with the same envelope:
 * {@code "tickvm": {"version": ..., "unicorn": ...}} and {@code "command"}.
 */
public final class Json {
    /** The mapper of every report: indented, and every Long/long a decimal string. */
    public static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .registerModule(new SimpleModule("tickvm-64-bit-as-strings")
                    .addSerializer(Long.class, new LongAsString())
                    .addSerializer(Long.TYPE, new LongAsString()));

    private Json() {
    }

    /** A signed 64-bit value as the report writes it: its decimal string. */
    public static String signed(long value) {
        return Long.toString(value);
    }

    /** An unsigned 64-bit value (an MSR, a TSC) as the report writes it: its unsigned decimal string. */
    public static String unsigned(long value) {
        return Long.toUnsignedString(value);
    }

    /**
     * The envelope: {@code "tickvm": {"version": V, "unicorn": "2.1.x"}} (unicorn null when the
     * library cannot be loaded) and {@code "command"}, in a map to add the report's fields to.
     */
    public static Map<String, Object> envelope(String command) {
        Map<String, Object> tickvm = new LinkedHashMap<>();
        tickvm.put("version", VirtualMachine.version());
        String unicorn;
        try {
            unicorn = Main.unicorn().version().toString();
        } catch (RuntimeException e) {
            unicorn = null;
        }
        tickvm.put("unicorn", unicorn);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tickvm", tickvm);
        m.put("command", command);
        return m;
    }

    /** {@code body}'s JSON object (a record, a map) after the envelope of {@code command}. */
    public static ObjectNode report(String command, Object body) {
        ObjectNode node = MAPPER.valueToTree(envelope(command));
        node.setAll((ObjectNode) MAPPER.valueToTree(body));
        return node;
    }

    /** A report as text, indented. */
    public static String write(Object report) {
        try {
            return MAPPER.writeValueAsString(report);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Prints a report, alone, on {@code out}; fails when {@code out} could not take it. */
    public static void print(Object report, PrintStream out) throws IOException {
        out.println(write(report));
        out.flush();
        if (out.checkError()) {
            throw new IOException("could not write the JSON report to stdout");
        }
    }

    private static final class LongAsString extends JsonSerializer<Long> {
        @Override
        public void serialize(Long value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
            gen.writeString(Long.toString(value));
        }
    }
}
