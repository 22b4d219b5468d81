package org.jtune.tensor;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;

/**
 * The stand-in for a device backend that is not present on this machine (no driver, no GPU): the
 * conformance cases parameterised with it are skipped by {@link SkipUnavailableBackends} before they
 * run, naming the device and the reason; any call on it (should a test reach one) aborts the test too.
 */
public final class UnavailableBackend implements InvocationHandler {
    private final String device, reason;

    private UnavailableBackend(String device, String reason) {
        this.device = device;
        this.reason = reason;
    }

    static Backend of(String device, String reason) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                new UnavailableBackend(device, reason));
    }

    /** The reason to print when {@code o} is such a stand-in, else null. */
    static String reasonIfUnavailable(Object o) {
        if (o instanceof Backend && Proxy.isProxyClass(o.getClass()) && Proxy.getInvocationHandler(o) instanceof UnavailableBackend u) {
            return u.reason.startsWith(u.device) ? u.reason : u.device + " is not available here: " + u.reason;
        }
        return null;
    }

    @Override
    public Object invoke(Object proxy, java.lang.reflect.Method method, Object[] args) {
        return switch (method.getName()) {
            case "toString", "name" -> device + " (skipped: " + reason + ")";
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            default -> throw new org.opentest4j.TestAbortedException(device + " is not available here: " + reason);
        };
    }
}
