package org.jtune.train.report;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Training progress on stderr: "step 120/1000 [####------] 12% | loss 1.2345 | lr 2.00e-04 |
 * 1,234 tok/s | ETA 5m12s". On a terminal the line is redrawn in place with a carriage return (at
 * most ten times a second); otherwise (a log file, CI) a plain line is printed every
 * {@code plainEvery} steps and at the last step. The ETA extrapolates the rate of the steps done
 * since the bar started (so a resumed run is not credited with earlier steps).
 */
public final class ProgressBar {
    private static final int WIDTH = 20;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final long total;
    private final int plainEvery;
    private final LongSupplier nanoClock;
    private long startStep = -1, startNanos, lastDraw;
    private boolean drawn;
    private int lastLength;

    public ProgressBar(PrintStream out, boolean terminal, long totalSteps, int plainEvery, LongSupplier nanoClock) {
        if (plainEvery < 1) throw new IllegalArgumentException("plainEvery must be >= 1");
        this.out = out;
        this.terminal = terminal;
        this.total = totalSteps;
        this.plainEvery = plainEvery;
        this.nanoClock = nanoClock;
    }

    /** A bar on System.err, redrawn when stderr is a terminal. */
    public static ProgressBar onStderr(long totalSteps, int plainEvery) {
        var console = System.console();
        return new ProgressBar(System.err, console != null && console.isTerminal(), totalSteps, plainEvery, System::nanoTime);
    }

    /** Marks where this session starts (the resumed step, or 0); the first update does it otherwise. */
    public void start(long step) {
        startStep = step;
        startNanos = nanoClock.getAsLong();
    }

    /** Reports that {@code step} steps are done. */
    public void update(long step, double loss, double lr, double tokensPerS) {
        long now = nanoClock.getAsLong();
        if (startStep < 0) {
            startStep = Math.max(0, step - 1);
            startNanos = now;
        }
        boolean last = step >= total;
        if (terminal) {
            if (!last && drawn && now - lastDraw < REDRAW_NANOS) return;
            lastDraw = now;
            drawn = true;
            String line = line(step, loss, lr, tokensPerS, now);
            int pad = Math.max(0, lastLength - line.length());
            out.print("\r" + line + " ".repeat(pad));
            lastLength = line.length();
            out.flush();
        } else if (step % plainEvery == 0 || last) {
            out.println(line(step, loss, lr, tokensPerS, now));
        }
    }

    /** Prints a message on its own line without garbling the bar. */
    public void message(String text) {
        clear();
        out.println(text);
    }

    /** Erases the drawn bar (terminal mode) so that another stream can print a line; the next update redraws it. */
    public void clear() {
        if (terminal && lastLength > 0) {
            out.print("\r" + " ".repeat(lastLength) + "\r");
            out.flush();
            lastLength = 0;
        }
    }

    /** Ends the bar's line (terminal mode). */
    public void finish() {
        if (terminal && lastLength > 0) out.println();
        lastLength = 0;
    }

    String line(long step, double loss, double lr, double tokensPerS, long now) {
        StringBuilder s = new StringBuilder();
        s.append("step ").append(step).append('/').append(total);
        if (total > 0) {
            double f = Math.min(1.0, (double) step / total);
            int filled = (int) Math.round(f * WIDTH);
            s.append(" [").append("#".repeat(filled)).append("-".repeat(WIDTH - filled)).append("] ")
                    .append(String.format(Locale.ROOT, "%3d%%", (int) Math.floor(f * 100)));
        }
        s.append(String.format(Locale.ROOT, " | loss %.4f | lr %.2e", loss, lr));
        if (tokensPerS > 0) s.append(String.format(Locale.ROOT, " | %,.0f tok/s", tokensPerS));
        long done = step - startStep;
        if (done > 0 && step < total) {
            double perStep = (now - startNanos) / 1e9 / done;
            s.append(" | ETA ").append(duration(perStep * (total - step)));
        } else if (step >= total) {
            s.append(" | ").append(duration((now - startNanos) / 1e9)).append(" total");
        }
        return s.toString();
    }

    /** 45s, 5m12s, 2h03m. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
        return (s / 3600) + "h" + String.format(Locale.ROOT, "%02d", (s % 3600) / 60) + "m";
    }
}
