/**
 * Measuring a classifier: accuracy, loss, per-class accuracy and the confusion matrix on labeled data
 * ({@link dev.squeeze.compress.eval.Evaluator}), and a model's size ({@link dev.squeeze.compress.eval.ModelSize}).
 * Evaluating a saved model file is {@link dev.squeeze.compress.saved.EvaluationService}.
 */
package dev.squeeze.compress.eval;
