/** Run artifacts: where each file of a run lives ({@link dev.squeeze.compress.artifacts.RunPaths}), atomic writes, the model file format. */
package dev.squeeze.compress.artifacts;
