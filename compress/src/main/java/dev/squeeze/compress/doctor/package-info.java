/**
 * {@code squeeze doctor}: checks that catch the silent training bugs before a long run, on the user's own
 * model and data: overfit one batch, initial loss, activation/init pairs, feature/label alignment,
 * normalization leakage, labels, and a learning-rate range test. Each check is a small class whose
 * inputs a test can break on purpose; {@link dev.squeeze.compress.doctor.Doctor} feeds them the real pipeline.
 */
package dev.squeeze.compress.doctor;
