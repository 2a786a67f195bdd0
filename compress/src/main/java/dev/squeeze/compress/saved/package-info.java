/**
 * Saved models of either kind: {@link dev.squeeze.compress.saved.EvaluationService} loads a float or int8 model file
 * and evaluates it on a dataset's test set with the normalization the file records ({@code squeeze eval}). It sits
 * above {@code quant}, so that {@code eval} stays below it.
 */
package dev.squeeze.compress.saved;
