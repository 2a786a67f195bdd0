/** Evaluation: accuracy, loss, per-class accuracy and the confusion matrix of a network on labeled data. */
package dev.squeeze.compress.eval;
