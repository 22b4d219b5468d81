package org.jtune.train.optim;

/** Constant rate after a linear warmup (transformers' get_constant_schedule_with_warmup; warmup 0 = constant). */
public record ConstantSchedule(double baseLr, long warmupSteps) implements LrSchedule {
    public ConstantSchedule {
        LrSchedule.check(baseLr, warmupSteps, 0);
    }

    @Override
    public double lr(long step) {
        double w = LrSchedule.warmupFactor(step, warmupSteps);
        return baseLr * (w >= 0 ? w : 1.0);
    }
}
