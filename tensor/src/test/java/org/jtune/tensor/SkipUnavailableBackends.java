package org.jtune.tensor;

import java.lang.reflect.Method;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.opentest4j.TestAbortedException;

/**
 * Skips (JUnit "aborted", reason printed) each parameterised case whose backend is an
 * {@link UnavailableBackend}, before its body runs, so a suite run against an absent GPU reports skips
 * rather than failures. Registered by auto-detection (META-INF/services) where a module turns it on
 * ({@code junit.jupiter.extensions.autodetection.enabled}).
 */
public final class SkipUnavailableBackends implements InvocationInterceptor {
    private static final java.util.Set<String> TOLD = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    public void interceptTestTemplateMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> call, ExtensionContext context)
            throws Throwable {
        for (Object arg : call.getArguments()) {
            String why = UnavailableBackend.reasonIfUnavailable(arg);
            if (why != null) {
                invocation.skip();
                if (TOLD.add(why)) System.out.println("[skipped] every case on " + why);
                throw new TestAbortedException(why);
            }
        }
        invocation.proceed();
    }
}
