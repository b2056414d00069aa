package dev.tickvm.scenario;

import java.util.Map;

/**
 * An integer expression of the scenario language: signed 64-bit values, C operators and
 * precedence, and no silent wrap-around: an overflowing {@code + - *}, a division by zero or a
 * shift outside 0..63 stops the run with a {@link ScenarioRuntimeException}.
 */
sealed interface Expr {

    /** The value, with the variables bound so far. */
    long eval(Map<String, Long> vars);

    /** A number as written (already converted: 1s is 1,000,000,000). */
    record Literal(long value) implements Expr {
        @Override
        public long eval(Map<String, Long> vars) {
            return value;
        }
    }

    /** A variable; the parser has checked that something binds it before this use. */
    record Variable(String name) implements Expr {
        @Override
        public long eval(Map<String, Long> vars) {
            Long value = vars.get(name);
            if (value == null) {
                // Only when the step that should have bound it failed as expected (expect-error).
                throw new ScenarioRuntimeException("variable '" + name
                        + "' has no value: the step that binds it did not run");
            }
            return value;
        }
    }

    /** {@code -x} or {@code ~x}. */
    record Unary(char op, Expr operand) implements Expr {
        @Override
        public long eval(Map<String, Long> vars) {
            long v = operand.eval(vars);
            return switch (op) {
                case '-' -> exact(() -> Math.negateExact(v), "-(" + v + ")");
                case '~' -> ~v;
                default -> throw new IllegalStateException("unary " + op);
            };
        }
    }

    /** {@code a OP b} for + - * / % << >> & |. */
    record Binary(String op, Expr left, Expr right) implements Expr {
        @Override
        public long eval(Map<String, Long> vars) {
            long a = left.eval(vars);
            long b = right.eval(vars);
            String what = a + " " + op + " " + b;
            return switch (op) {
                case "+" -> exact(() -> Math.addExact(a, b), what);
                case "-" -> exact(() -> Math.subtractExact(a, b), what);
                case "*" -> exact(() -> Math.multiplyExact(a, b), what);
                case "/", "%" -> {
                    if (b == 0) {
                        throw new ScenarioRuntimeException("division by zero in " + what);
                    }
                    if (a == Long.MIN_VALUE && b == -1) {
                        throw new ScenarioRuntimeException("arithmetic overflow in " + what);
                    }
                    yield op.equals("/") ? a / b : a % b;
                }
                case "<<", ">>" -> {
                    if (b < 0 || b > 63) {
                        throw new ScenarioRuntimeException("shift count must be 0..63 in " + what);
                    }
                    yield op.equals("<<") ? a << b : a >> b;
                }
                case "&" -> a & b;
                case "|" -> a | b;
                default -> throw new IllegalStateException("binary " + op);
            };
        }
    }

    private static long exact(java.util.function.LongSupplier f, String what) {
        try {
            return f.getAsLong();
        } catch (ArithmeticException e) {
            throw new ScenarioRuntimeException("arithmetic overflow (signed 64-bit) in " + what);
        }
    }
}
