/**
 * Datasets: IDX images, image folders (read with DataVec) and CSV tables, locating (or downloading and verifying) the files, the train/validation
 * split and normalization fitted on the training split.
 */
package dev.squeeze.models.data;
