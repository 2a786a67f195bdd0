/**
 * Datasets: IDX reading, locating (or downloading) the files, the train/validation split and
 * normalization fitted on the training split.
 */
package dev.squeeze.models.data;
