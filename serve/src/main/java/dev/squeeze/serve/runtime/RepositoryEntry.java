package dev.squeeze.serve.runtime;

import java.util.Objects;

/**
 * One folder of the {@link ModelRepository}, as {@code GET /v2/repository/index} lists it.
 *
 * @param name    the folder's name (the model's name)
 * @param version the version serving when {@link ModelState#READY}, otherwise the last version that loaded
 *                (0: none ever did); it increases by one on each successful load
 * @param state   whether the model can be served
 * @param reason  why it is not serving, why a newer version was rejected, or what is going on; empty when all is well
 */
public record RepositoryEntry(String name, long version, ModelState state, String reason) {
    public RepositoryEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
        reason = reason == null ? "" : reason;
    }
}
