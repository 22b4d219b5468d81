package org.jtune.train.optim;

import java.util.Locale;

/**
 * A learning rate as a function of the optimizer step s = 0, 1, 2, … (the rate used for the update
 * that makes step s+1), as transformers' LambdaLR schedules: base rate × a multiplier that ramps
 * linearly from 0 over the warmup steps (s / warmup), then follows the schedule's decay until
 * {@code totalSteps}. As in transformers, step 0 of a warmed-up schedule has rate 0.
 */
public sealed interface LrSchedule permits ConstantSchedule, LinearSchedule, CosineSchedule {
    /** The learning rate for step s ≥ 0. */
    double lr(long step);

    double baseLr();

    /** The schedule named {@code kind} (cosine, linear, constant); minLrRatio applies to cosine only. */
    static LrSchedule of(String kind, double baseLr, long warmupSteps, long totalSteps, double minLrRatio) {
        return switch (kind.toLowerCase(Locale.ROOT)) {
            case "constant" -> new ConstantSchedule(baseLr, warmupSteps);
            case "linear" -> new LinearSchedule(baseLr, warmupSteps, totalSteps);
            case "cosine" -> new CosineSchedule(baseLr, warmupSteps, totalSteps, minLrRatio);
            default -> throw new IllegalArgumentException("unknown lr schedule '" + kind + "' (cosine, linear or constant)");
        };
    }

    /** Warmup steps from a ratio of the total, rounded up as transformers' TrainingArguments.get_warmup_steps. */
    static long warmupFromRatio(double ratio, long totalSteps) {
        if (!(ratio >= 0 && ratio <= 1)) throw new IllegalArgumentException("warmup ratio must be in [0, 1], got " + ratio);
        return (long) Math.ceil(totalSteps * ratio);
    }

    /** s / max(1, warmup) during warmup, else -1 (helper for the implementations). */
    static double warmupFactor(long step, long warmupSteps) {
        return step < warmupSteps ? (double) step / Math.max(1, warmupSteps) : -1;
    }

    static void check(double baseLr, long warmupSteps, long totalSteps) {
        if (!(baseLr >= 0) || Double.isInfinite(baseLr)) throw new IllegalArgumentException("base learning rate must be finite and >= 0, got " + baseLr);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmup steps must be >= 0, got " + warmupSteps);
        if (totalSteps < 0) throw new IllegalArgumentException("total steps must be >= 0, got " + totalSteps);
    }
}
