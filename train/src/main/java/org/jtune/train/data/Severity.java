package org.jtune.train.data;

/**
 * How bad a data issue is. An ERROR makes the data unusable as it stands (the check exits 1); a
 * WARNING is worth a look but training can go on (the check exits 0).
 */
public enum Severity {
    ERROR,
    WARNING;

    /** Lower-case name used in JSON output. */
    public String jsonName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
