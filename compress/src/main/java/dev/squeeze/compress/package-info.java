/**
 * The engine: guarded training, evaluation, the run ledger and run artifacts (later: distillation,
 * pruning, quantization, export). No Micronaut and no picocli here: the CLI and the server call these
 * services and hold no logic of their own.
 */
package dev.squeeze.compress;
