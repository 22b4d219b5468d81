package org.jtune.serve.monitor;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One compared figure: its value, the threshold and which side of it alerts ("above": value &gt;
 * threshold alerts; "below": value &lt; threshold alerts, for p-values). A NaN value never alerts.
 */
public record Check(String name, String scope, double value, double threshold, boolean alertAbove) {
    public boolean alert() {
        if (Double.isNaN(value)) return false;
        return alertAbove ? value > threshold : value < threshold;
    }

    public void into(ObjectNode o) {
        o.put("name", name).put("scope", scope).put("value", Double.isFinite(value) ? value : null).put("threshold", threshold)
                .put("alert_when", alertAbove ? "above" : "below").put("alert", alert());
    }
}
