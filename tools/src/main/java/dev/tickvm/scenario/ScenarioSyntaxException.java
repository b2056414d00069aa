package dev.tickvm.scenario;

import java.util.List;
import java.util.stream.Collectors;

/** A scenario file does not parse: every error found, in file order. Nothing of it has run. */
public final class ScenarioSyntaxException extends Exception {

    /**
     * One error, compiler style: {@code file:line:column: message}.
     *
     * @param source the whole source line, to show under the message
     */
    public record SyntaxError(String file, int line, int column, String message, String source) {
        @Override
        public String toString() {
            return file + ":" + line + ":" + column + ": " + message;
        }

        /** The message, then the line and a caret under the column. */
        public String withContext() {
            String shown = source.replace('\t', ' ');
            return this + "\n    " + shown + "\n    " + " ".repeat(Math.max(0, column - 1)) + "^";
        }
    }

    private final transient List<SyntaxError> errors;

    ScenarioSyntaxException(List<SyntaxError> errors) {
        super(errors.stream().map(SyntaxError::toString).collect(Collectors.joining("\n")));
        this.errors = List.copyOf(errors);
    }

    public List<SyntaxError> errors() {
        return errors;
    }
}
