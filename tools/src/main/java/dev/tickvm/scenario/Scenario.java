package dev.tickvm.scenario;

import dev.tickvm.scenario.Statement.Step;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A parsed scenario file: its steps in file order, ready to run; a loop is one step that holds
 * the steps of its body. Parsing checks the whole file first, loop bodies included, so a
 * scenario either parses completely or not at all.
 *
 * @param file the name used in messages (the path as given)
 */
public record Scenario(String file, List<Step> steps) {

    public Scenario {
        steps = List.copyOf(steps);
    }

    /** Parses scenario text; {@code file} names it in messages. */
    public static Scenario parse(String file, String text) throws ScenarioSyntaxException {
        return ScenarioParser.parse(file, text);
    }

    /** Reads and parses a file (UTF-8); {@link NotTextException} when it is not UTF-8 text. */
    public static Scenario load(Path path) throws IOException, ScenarioSyntaxException {
        return parse(path.toString(), decode(Files.readAllBytes(path)));
    }

    /**
     * The text of a scenario file: UTF-8 without NUL bytes. Files.readString would only say
     * "Input length = 1", neither the byte nor where it is.
     */
    static String decode(byte[] bytes) throws NotTextException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isUnderflow()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            int offset = in.position();
            throw at(bytes, offset, String.format("not UTF-8 text: invalid byte 0x%02x", bytes[offset] & 0xff));
        }
        String text = out.flip().toString();
        int nul = text.indexOf('\0');
        if (nul >= 0) {
            int offset = text.substring(0, nul).getBytes(StandardCharsets.UTF_8).length;
            throw at(bytes, offset, "not text: a NUL byte (a binary file?)");
        }
        return text;
    }

    /** The line and column (in characters, as the parser counts them) of the byte at {@code offset}. */
    private static NotTextException at(byte[] bytes, int offset, String what) {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < offset; i++) {
            if (bytes[i] == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        // Everything before the offset decoded cleanly.
        String before = new String(bytes, lineStart, offset - lineStart, StandardCharsets.UTF_8);
        return new NotTextException(what, line, before.codePointCount(0, before.length()) + 1);
    }
}
