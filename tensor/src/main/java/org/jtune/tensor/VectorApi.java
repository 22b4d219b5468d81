package org.jtune.tensor;

import org.jtune.JtuneException;

/**
 * Whether the JVM runs with the Java Vector API (the incubator module jdk.incubator.vector), which every
 * CPU kernel uses. Without it the first kernel fails deep inside with NoClassDefFoundError; loading a model
 * checks first and says which flag to add.
 */
public final class VectorApi {
    /** The JVM option that adds the module. */
    public static final String FLAG = "--add-modules jdk.incubator.vector";

    private VectorApi() {}

    /** True when jdk.incubator.vector is in the boot layer. */
    public static boolean present() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** A JtuneException naming the flag when the module is missing. */
    public static void require() throws JtuneException {
        if (!present()) {
            throw new JtuneException("the Java Vector API is missing: run java with " + FLAG + " (Maven: in surefire's argLine and "
                    + "exec:java's MAVEN_OPTS or .mvn/jvm.config; Gradle: jvmArgs) — jtune's kernels use it");
        }
    }
}
