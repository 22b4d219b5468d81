package org.jtune.serve.registry;

import java.util.Locale;
import org.jtune.JtuneException;

/** Where a version is in its life: registered as a candidate, tried in staging, serving in production, retired. */
public enum Stage {
    CANDIDATE, STAGING, PRODUCTION, ARCHIVED;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Stage parse(String s) throws JtuneException {
        for (Stage st : values()) if (st.id().equalsIgnoreCase(s.strip())) return st;
        throw new JtuneException("unknown stage '" + s + "': use candidate, staging, production or archived");
    }
}
