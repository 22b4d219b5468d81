package org.jtune.tensor;

/** Elementwise functions of two arguments; {@link #apply} is the scalar definition every kernel must match. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, POW, MAX, MIN;

    /** The reference definition, in double precision; MAX and MIN propagate NaN. */
    public double apply(double a, double b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> Math.pow(a, b);
            case MAX -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
            case MIN -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.min(a, b);
        };
    }
}
