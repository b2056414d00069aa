package dev.tickvm.scenario;

/**
 * A step could not be carried out for a reason of the scenario itself (an arithmetic overflow,
 * a guest that can no longer run, a bad host setting): it stops the run, and expect-error never
 * counts it as the failure it expects.
 */
final class ScenarioRuntimeException extends RuntimeException {
    ScenarioRuntimeException(String message) {
        super(message);
    }
}
