package dev.squeeze.serve.runtime;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One use of one loaded version of a model, from {@link ModelRepository#acquire(String)}: while any lease on a version
 * is open the version stays loaded, even when a newer version has replaced it or the model was unloaded. Close it
 * (try-with-resources) when the request is done; closing twice is harmless.
 */
public final class ModelLease implements AutoCloseable {
    private final LoadedModel model;
    private final Runnable release;
    private final AtomicBoolean closed = new AtomicBoolean();

    ModelLease(LoadedModel model, Runnable release) {
        this.model = model;
        this.release = release;
    }

    /** The leased version. */
    public LoadedModel model() {
        if (closed.get()) throw new IllegalStateException("the lease on " + model.name() + " v" + model.version() + " is closed");
        return model;
    }

    public String name() {
        return model.name();
    }

    public long version() {
        return model.version();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) release.run();
    }

    @Override
    public String toString() {
        return "lease on " + model.name() + " v" + model.version() + (closed.get() ? " (closed)" : "");
    }
}
