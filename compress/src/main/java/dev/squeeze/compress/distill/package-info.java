/**
 * Knowledge distillation (Hinton, Vinyals, Dean 2015): a student trained on a teacher's soft targets at a
 * temperature T, with {@link dev.squeeze.compress.distill.DistillationLoss} as the student's loss; the teacher may be
 * an ensemble trained by {@link dev.squeeze.compress.distill.EnsembleService}, whose members' logits are averaged.
 */
package dev.squeeze.compress.distill;
