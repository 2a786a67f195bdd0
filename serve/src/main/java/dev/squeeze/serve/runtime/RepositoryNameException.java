package dev.squeeze.serve.runtime;

/**
 * A model name that is not a model name (empty, too long, or with characters outside letters, digits, '.', '_' and
 * '-', such as path separators): HTTP 400. Nothing is looked up on disk for such a name.
 */
public class RepositoryNameException extends BadRequestException {
    public RepositoryNameException(String message) {
        super(message);
    }
}
