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

    /**
     * Whether the backward reads the forward's output y instead of its input x (where f' is cheaper in
     * y: e^x, √x, 1/√x, tanh, σ, 1/x); {@link Backend#unaryBackward} receives that saved value.
     */
    public boolean gradientFromOutput() {
        return switch (this) {
            case EXP, SQRT, RSQRT, TANH, SIGMOID, RECIPROCAL -> true;
            default -> false;
        };
    }

    /**
     * The reference derivative f' in double, written in the saved value s (x, or y when
     * {@link #gradientFromOutput()}): the rule every backward kernel must match, dx = g·f'.
     */
    public double derivative(double s) {
        return switch (this) {
            case NEG -> -1.0;
            case EXP -> s;                                   // (eˣ)' = y
            case LOG -> 1.0 / s;
            case SQRT -> 0.5 / s;                            // 1/(2y)
            case RSQRT -> -0.5 * s * s * s;                  // −y³/2
            case ABS -> s > 0 ? 1.0 : s < 0 ? -1.0 : s == 0 ? 0.0 : Double.NaN;
            case TANH -> 1.0 - s * s;                        // 1 − y²
            case SIGMOID -> s * (1.0 - s);                   // y(1 − y)
            case SILU -> {                                   // σ(x)(1 + x(1 − σ(x)))
                double sg = 1.0 / (1.0 + Math.exp(-s));
                yield sg * (1.0 + s * (1.0 - sg));
            }
            case GELU_TANH -> {                              // (1 + t)/2 + x(1 − t²)·√(2/π)(1 + 3·0.044715x²)/2
                double t = Math.tanh(SQRT_2_OVER_PI * (s + 0.044715 * s * s * s));
                yield 0.5 * (1.0 + t) + 0.5 * s * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * s * s);
            }
            case GELU_ERF -> 0.5 * (1.0 + Erf.erf(s / Math.sqrt(2.0))) + s * Math.exp(-0.5 * s * s) / Math.sqrt(2.0 * Math.PI);
            case RELU -> s > 0 ? 1.0 : 0.0;
            case SQUARE -> 2.0 * s;
            case RECIPROCAL -> -s * s;                       // −1/x² = −y²
        };
    }
}
