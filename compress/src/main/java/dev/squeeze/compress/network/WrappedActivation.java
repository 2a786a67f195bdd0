package dev.squeeze.compress.network;

import org.nd4j.linalg.activations.IActivation;

/**
 * An activation that wraps another for training only (quantization-aware training's fake quantization): at
 * inference a layer computes its {@link #base()}, so {@link Dl4jLayers} reads the base. DL4J stores activations by
 * class name, so the wrapping class stays where trained model files expect it.
 */
public interface WrappedActivation {
    IActivation base();

    /** The base of a {@link WrappedActivation}, or {@code a} itself. */
    static IActivation unwrap(IActivation a) {
        return a instanceof WrappedActivation w ? w.base() : a;
    }
}
