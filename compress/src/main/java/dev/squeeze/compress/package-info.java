/**
 * The engine: every stage of the pipeline as a plain Java service, and what they share. No Micronaut and no
 * picocli here (PackageLayoutTest checks it, and that its packages form no cycle): the CLI and the server call these
 * services and hold no logic of their own.
 *
 * <ul>
 *   <li>stages: guarded training and ensembles ({@code train}, {@code distill}), hyperparameter sweeps
 *       ({@code sweep}), the pre-flight checks ({@code doctor}), lottery-ticket and structured pruning
 *       ({@code prune}), knowledge distillation ({@code distill}), int8 quantization ({@code quant}) and ONNX export
 *       ({@code onnx});</li>
 *   <li>what they share, lowest first: a run's files ({@code artifacts}), text tables and charts ({@code report}),
 *       the run ledger ({@code ledger}), the workspace and named models ({@code runs}), accuracy and size of a
 *       classifier ({@code eval}), the network representation that int8 inference and ONNX export read
 *       ({@code network}); {@code saved} evaluates a model file of either kind.</li>
 * </ul>
 */
package dev.squeeze.compress;
