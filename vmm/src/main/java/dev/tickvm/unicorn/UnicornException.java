package dev.tickvm.unicorn;

/** A Unicorn call failed; carries Unicorn's error code and its own message (uc_strerror). */
public final class UnicornException extends RuntimeException {
    private final UnicornError error;

    UnicornException(String operation, UnicornError error, String unicornMessage) {
        super(operation + " failed: " + error.cName() + " (" + unicornMessage + ")");
        this.error = error;
    }

    UnicornException(String message, Throwable cause) {
        super(message, cause);
        this.error = UnicornError.UNKNOWN;
    }

    public UnicornError error() {
        return error;
    }
}
