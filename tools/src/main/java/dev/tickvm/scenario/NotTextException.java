package dev.tickvm.scenario;

import java.io.IOException;

/**
 * A scenario file that is not UTF-8 text: a byte that is no UTF-8 (Latin-1's "é" is 0xe9), or a
 * NUL (a binary file). The message says which byte and where: {@code not UTF-8 text: invalid byte
 * 0xe9 at line 1, column 4}.
 *
 * @see #what() the message without the place, for a syntax error that has its own line and column
 */
public final class NotTextException extends IOException {
    private final String what;
    private final int line;
    private final int column;

    NotTextException(String what, int line, int column) {
        super(what + " at line " + line + ", column " + column);
        this.what = what;
        this.line = line;
        this.column = column;
    }

    public String what() {
        return what;
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }
}
