package org.jtune.train.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    private final AtomicLong clock = new AtomicLong();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void plainModePrintsEveryNStepsWithEta() {
        var bar = new ProgressBar(out, false, 100, 25, clock::get);
        bar.start(0);
        for (int s = 1; s <= 100; s++) {
            clock.addAndGet(2_000_000_000L); // 2 s per step
            bar.update(s, 3.0 / s, 2e-4, 1234.4);
        }
        String[] lines = text().split("\n");
        assertEquals(4, lines.length);
        assertEquals("step 25/100 [#####---------------]  25% | loss 0.1200 | lr 2.00e-04 | 1,234 tok/s | ETA 2m30s", lines[0]);
        assertEquals("step 100/100 [####################] 100% | loss 0.0300 | lr 2.00e-04 | 1,234 tok/s | 3m20s total", lines[3]);
    }

    @Test
    void terminalModeRedrawsOneLineAtMostTenTimesASecond() {
        var bar = new ProgressBar(out, true, 10, 1, clock::get);
        bar.start(4); // resumed at step 4
        clock.set(1_000_000_000L);
        bar.update(5, 1.5, 1e-3, 0);
        clock.addAndGet(50_000_000L); // 50 ms later: skipped
        bar.update(6, 1.4, 1e-3, 0);
        clock.addAndGet(950_000_000L);
        bar.message("eval: val_loss 1.2");
        bar.update(7, 1.3, 1e-3, 0);
        bar.finish();
        String t = text();
        String first = "step 5/10 [##########----------]  50% | loss 1.5000 | lr 1.00e-03 | ETA 5s";
        assertEquals("\r" + first + "\r" + " ".repeat(first.length()) + "\r" + "eval: val_loss 1.2\n"
                + "\rstep 7/10 [##############------]  70% | loss 1.3000 | lr 1.00e-03 | ETA 2s\n", t);
    }

    @Test
    void durations() {
        assertEquals("45s", ProgressBar.duration(44.6));
        assertEquals("5m12s", ProgressBar.duration(312));
        assertEquals("2h03m", ProgressBar.duration(2 * 3600 + 3 * 60 + 59));
    }
}
