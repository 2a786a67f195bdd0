package dev.squeeze.serve.runtime;

/** Where a model of the {@link ModelRepository} stands, as {@code GET /v2/repository/index} reports it. */
public enum ModelState {
    /** A version is loaded and serving (a newer one may be loading, or may have been rejected: see the reason). */
    READY,
    /** Nothing is serving: the last load failed, the folder is not a usable model, or the model was unloaded. */
    UNAVAILABLE,
    /** Nothing is serving yet; the model's files are being loaded (or are still changing). */
    LOADING
}
