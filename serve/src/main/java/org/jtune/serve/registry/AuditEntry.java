package org.jtune.serve.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** One change of the registry: who did what to which version, when, why, and what it was based on (gate verdict, forced). */
public record AuditEntry(long id, String at, String who, String name, Integer version, String action, String fromStage,
                         String toStage, String reason, ObjectNode details) {
}
