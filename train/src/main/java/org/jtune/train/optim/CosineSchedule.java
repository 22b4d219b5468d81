package org.jtune.train.optim;

/**
 * Linear warmup, then half a cosine from the base rate down to {@code minLrRatio} × base at
 * {@code totalSteps} (transformers' get_cosine_schedule_with_warmup with num_cycles 0.5, and
 * get_cosine_with_min_lr_schedule_with_warmup's min_lr_rate): with progress
 * p = (s − warmup) / max(1, total − warmup), multiplier = r + (1 − r)·½(1 + cos(π·p)), floored at 0.
 * Past totalSteps the cosine rises again, as in transformers; train for totalSteps.
 */
public record CosineSchedule(double baseLr, long warmupSteps, long totalSteps, double minLrRatio) implements LrSchedule {
    public CosineSchedule {
        LrSchedule.check(baseLr, warmupSteps, totalSteps);
        if (!(minLrRatio >= 0 && minLrRatio <= 1)) throw new IllegalArgumentException("min lr ratio must be in [0, 1], got " + minLrRatio);
    }

    public CosineSchedule(double baseLr, long warmupSteps, long totalSteps) {
        this(baseLr, warmupSteps, totalSteps, 0.0);
    }

    @Override
    public double lr(long step) {
        double w = LrSchedule.warmupFactor(step, warmupSteps);
        if (w >= 0) return baseLr * w;
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        double cosine = 0.5 * (1.0 + Math.cos(Math.PI * progress));
        return baseLr * Math.max(0.0, minLrRatio + (1 - minLrRatio) * cosine);
    }
}
