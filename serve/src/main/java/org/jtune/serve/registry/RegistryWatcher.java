package org.jtune.serve.registry;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jtune.JtuneException;

/**
 * The entry point for `jtune serve --registry DB --name NAME`: which artifact is in production for a
 * name now, and a call when that changes (a promote or rollback, by this process or another). It polls
 * the registry (one indexed query) every {@code interval}; {@link #poll()} checks at once. The server
 * loads the new {@link Served} beside the old one and switches new requests over, so none is dropped;
 * requests then log {@link Served#label()} as their model_version.
 */
public final class RegistryWatcher implements AutoCloseable {
    /**
     * What to serve: a model folder and, for an adapter version, the adapter folder to apply to it.
     *
     * @param model   the model folder (the base for an adapter version; the stored folder for a full model)
     * @param adapter the stored PEFT folder, or null
     */
    public record Served(ModelVersion version, Path model, Path adapter) {
        public String label() {
            return version.label();
        }
    }

    private final Registry registry;
    private final String name;
    private final List<Consumer<Optional<Served>>> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService timer;
    private volatile Optional<Served> current;
    private volatile JtuneException lastError;

    private RegistryWatcher(Registry registry, String name, Duration interval) throws JtuneException {
        this.registry = registry;
        this.name = name;
        this.current = resolve();
        this.timer = interval == null ? null : Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "registry-watch-" + name);
            t.setDaemon(true);
            return t;
        });
        if (timer != null) {
            long ms = Math.max(10, interval.toMillis());
            timer.scheduleWithFixedDelay(this::pollQuietly, ms, ms, TimeUnit.MILLISECONDS);
        }
    }

    /** Watches {@code name}, polling every {@code interval} (null: only when {@link #poll()} is called). */
    public static RegistryWatcher watch(Registry registry, String name, Duration interval) throws JtuneException {
        return new RegistryWatcher(registry, name, interval);
    }

    /** The production version now (empty when none is in production). */
    public Optional<Served> current() {
        return current;
    }

    /** The error of the last failed background poll (the database unreachable), or null; serving goes on with what it had. */
    public JtuneException lastError() {
        return lastError;
    }

    /** Called with the new production version (or empty) after each change, on the polling thread. */
    public void onChange(Consumer<Optional<Served>> listener) {
        listeners.add(listener);
    }

    /** Checks now; returns true and notifies the listeners when production changed. */
    public synchronized boolean poll() throws JtuneException {
        Optional<Served> now = resolve();
        Integer was = current.map(s -> s.version().version()).orElse(null);
        Integer is = now.map(s -> s.version().version()).orElse(null);
        if (Objects.equals(was, is)) return false;
        current = now;
        for (var l : listeners) l.accept(now);
        return true;
    }

    private void pollQuietly() {
        try {
            poll();
            lastError = null;
        } catch (JtuneException | RuntimeException e) {
            lastError = e instanceof JtuneException j ? j : new JtuneException(e.toString(), e);
        }
    }

    private Optional<Served> resolve() throws JtuneException {
        Optional<ModelVersion> v = registry.production(name);
        if (v.isEmpty()) return Optional.empty();
        ModelVersion mv = v.get();
        Path folder = registry.artifactFolder(mv);
        return Optional.of(mv.kind().equals("adapter") ? new Served(mv, Path.of(mv.baseModel()), folder) : new Served(mv, folder, null));
    }

    @Override
    public void close() {
        if (timer != null) timer.shutdownNow();
    }
}
