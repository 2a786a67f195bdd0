package dev.squeeze.compress.eval;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Anything that maps a batch of normalised feature rows to class probabilities: a DL4J network, an int8 network. */
@FunctionalInterface
public interface Classifier {
    INDArray probabilities(INDArray features);
}
