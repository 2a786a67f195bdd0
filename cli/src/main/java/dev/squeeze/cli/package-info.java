/**
 * picocli commands, thin: parse, call the engine, serve and pipeline services, print. Progress and messages go to
 * stderr, results (tables, {@code --json}) to stdout. Exit codes: {@link dev.squeeze.cli.ExitCodes}.
 */
package dev.squeeze.cli;
