package org.jtune.serve.registry;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** Times as the registry and the request log store them: ISO-8601 UTC text with milliseconds (2026-12-04T06:00:00.123Z). */
public final class Clock {
    private static final DateTimeFormatter ISO = DateTimeFormatter.ISO_INSTANT;

    private Clock() {}

    public static String now() {
        return format(Instant.now());
    }

    /** Always three fractional digits, so text order is time order. */
    public static String format(Instant t) {
        Instant ms = t.truncatedTo(ChronoUnit.MILLIS);
        String s = ISO.format(ms);
        if (ms.getNano() == 0) s = s.substring(0, s.length() - 1) + ".000Z";
        return s;
    }
}
