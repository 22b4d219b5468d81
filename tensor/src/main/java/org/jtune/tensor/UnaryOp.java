package org.jtune.tensor;

/** Elementwise functions of one argument; {@link #apply} is the scalar definition every kernel must match. */
public enum UnaryOp {
    NEG, EXP, LOG, SQRT, RSQRT, ABS, TANH, SIGMOID, SILU, GELU_TANH, GELU_ERF, RELU, SQUARE, RECIPROCAL;

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    /** The reference definition, in double precision. */
    public double apply(double x) {
        return switch (this) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1.0 / Math.sqrt(x);
            case ABS -> Math.abs(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
            case SILU -> x / (1.0 + Math.exp(-x));
            // GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            case GELU_TANH -> 0.5 * x * (1.0 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
            // GELU, exact: 0.5 x (1 + erf(x / sqrt 2))
            case GELU_ERF -> 0.5 * x * (1.0 + Erf.erf(x / Math.sqrt(2.0)));
            case RELU -> x > 0 ? x : (Double.isNaN(x) ? x : 0.0);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1.0 / x;
        };
    }
}
