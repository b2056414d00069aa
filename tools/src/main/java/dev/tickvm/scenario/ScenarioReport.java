package dev.tickvm.scenario;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.tickvm.scenario.ScenarioSyntaxException.SyntaxError;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What running (or trying to parse) one scenario file gave: every step with its outcome. This
 * is also the shape of {@code tickvm scenario --json} (see docs/SCENARIOS.md).
 *
 * @param file         the file as named on the command line
 * @param ok           true when it parsed, every expectation held and nothing stopped the run
 * @param passed       expectations (expect, expect-error) that held
 * @param failed       expectations that did not, plus the step that stopped the run, if any
 * @param syntaxErrors why the file did not parse (then nothing ran and {@code steps} is empty)
 * @param stoppedAt    the step whose runtime error stopped the run, or null
 * @param steps        every step of the file in order, run or not
 * @param wallNanos    real time the run took
 */
@JsonPropertyOrder({"file", "ok", "passed", "failed", "syntaxErrors", "stoppedAt", "steps", "wallNanos"})
public record ScenarioReport(String file, boolean ok, int passed, int failed, List<SyntaxError> syntaxErrors,
        Stop stoppedAt, List<StepReport> steps, long wallNanos) {

    public ScenarioReport {
        syntaxErrors = List.copyOf(syntaxErrors);
        steps = List.copyOf(steps);
    }

    /** The report of a file that did not parse. */
    static ScenarioReport notParsed(String file, List<SyntaxError> errors) {
        return new ScenarioReport(file, false, 0, 0, errors, null, List.of(), 0);
    }

    /** 0 all held, 1 an expectation failed or a runtime error stopped the run, 2 a syntax error. */
    public int exitCode() {
        return !syntaxErrors.isEmpty() ? 2 : ok ? 0 : 1;
    }

    /** The summary line: exactly "N passed, M failed". */
    public String summary() {
        return passed + " passed, " + failed + " failed";
    }

    /** What became of a step. */
    public enum Status {
        /** A step that is not an expectation, done. */
        OK,
        /** An expectation that held. */
        PASS,
        /** An expectation that did not hold. */
        FAIL,
        /** A runtime error: the run stopped here. */
        ERROR,
        /** After a runtime error: never run. */
        NOT_RUN;

        @JsonValue
        public String json() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * One step.
     *
     * @param step      1-based number among the file's steps
     * @param line      1-based line in the file
     * @param text      the statement as written
     * @param kind      its command word
     * @param results   the variables it bound, by name, in order
     * @param values    every value it produced: a command's results, an expectation's operands
     *                  (then its tolerance), what print showed
     * @param message   for people: the results, both sides of an expectation, or the error
     * @param hostNanos the VM host's virtual clock after the step (null before the VM exists)
     */
    @JsonPropertyOrder({"step", "line", "text", "kind", "status", "results", "values", "message", "hostNanos"})
    public record StepReport(int step, int line, String text, String kind, Status status, Map<String, Long> results,
            List<Long> values, String message, Long hostNanos) {
    }

    /** Where and why a runtime error stopped the run. */
    public record Stop(int line, int step, String text, String message) {
    }
}
