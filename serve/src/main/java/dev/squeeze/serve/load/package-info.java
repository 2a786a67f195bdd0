/**
 * The HTTP load generator behind {@code squeeze bench --url}: {@link dev.squeeze.serve.load.LoadGenerator} drives a
 * running Open Inference Protocol v2 server closed-loop at each concurrency level of
 * {@link dev.squeeze.serve.load.LoadOptions}, and reports one {@link dev.squeeze.serve.load.LoadLevel} per level in a
 * {@link dev.squeeze.serve.load.LoadResult}. Uses serve.runtime's protocol codec and tensors only; it talks to any
 * server over HTTP, never to serve.http's classes.
 */
package dev.squeeze.serve.load;
