package dev.squeeze.serve.load;

/**
 * How {@link LoadGenerator}'s virtual users send their requests over one {@link Protocol}: its own threads (made by the
 * generator's thread factory, so that their CPU time is counted) and connections.
 */
interface Transport extends AutoCloseable {
    /**
     * Starts one virtual user: it sends a request, reports the answer to {@link LoadGenerator.Users#record}, and sends
     * the next, until {@link LoadGenerator.Users#stopping()}; then it calls {@link LoadGenerator.Users#userDone()} once.
     * Never blocks.
     */
    void start(LoadGenerator.Users users);

    /** Closes the connections and stops the threads. */
    @Override
    void close();
}
