/**
 * Hyperparameter sweeps: train every combination of a grid (or a seeded random sample of it), each trial a
 * guarded training run recorded in the ledger under one sweep id, up to P trials at a time, and rank the
 * settings by how far validation accuracy moved across their values.
 *
 * <ul>
 *   <li>{@link dev.squeeze.compress.sweep.SweepGrid}: parses {@code lr=1e-3,3e-3;batch=32,128} and turns it
 *       into trials;</li>
 *   <li>{@link dev.squeeze.compress.sweep.SweepService}: runs the trials through the training service;</li>
 *   <li>{@link dev.squeeze.compress.sweep.SensitivityTable}: what mattered, as text or JSON.</li>
 * </ul>
 */
package dev.squeeze.compress.sweep;
