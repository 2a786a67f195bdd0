/**
 * The inputs an ONNX model is calibrated and evaluated on, and the figures of what quantizing it cost.
 *
 * <p>{@link dev.squeeze.compress.onnx.inputs.ModelSignature} reads a model's inputs and outputs from its file;
 * {@link dev.squeeze.compress.onnx.inputs.InputFiles} reads batches of {@link dev.squeeze.compress.onnx.inputs.InputTensor}s
 * from {@code .npy}/{@code .npz} files or a folder of Open Inference Protocol v2 request bodies, each checked against
 * the signature before any work; {@link dev.squeeze.compress.onnx.inputs.InputSplit} sets aside held-out examples
 * (seeded) so that {@link dev.squeeze.compress.onnx.inputs.QuantizationFigures} are never measured on calibration
 * inputs. {@link dev.squeeze.compress.onnx.inputs.DatasetInputs} gives the same two parts from a labelled dataset whose
 * raw features the model takes: calibration from its training split, evaluation from its test split.
 */
package dev.squeeze.compress.onnx.inputs;
