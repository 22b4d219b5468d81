package org.jtune.train.optim;

/**
 * Linear warmup, then linear decay to 0 at {@code totalSteps} (transformers'
 * get_linear_schedule_with_warmup): multiplier max(0, (total − s) / max(1, total − warmup)).
 */
public record LinearSchedule(double baseLr, long warmupSteps, long totalSteps) implements LrSchedule {
    public LinearSchedule {
        LrSchedule.check(baseLr, warmupSteps, totalSteps);
    }

    @Override
    public double lr(long step) {
        double w = LrSchedule.warmupFactor(step, warmupSteps);
        if (w >= 0) return baseLr * w;
        return baseLr * Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    }
}
