package dev.squeeze.models.zoo.layers;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link NativeConvolution} is fast only because the oneDNN build of nd4j-native executes its conv2d ops
 * (without it conv2d_bp is ~5x slower). A change of classifier would slow lenet-5 down silently; this fails instead.
 */
class OneDnnBackendTest {
    @Test
    void theOneDnnBuildOfTheCpuBackendIsLoaded() {
        Nd4j.create(1);   // loads the backend
        assertEquals("CPU", Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend"));
        assertTrue(Nd4jCpu.Environment.getInstance().isUseONEDNN(),
                "nd4j-native without oneDNN is loaded: check the nd4j.classifier property (linux-x86_64-onednn)");
    }
}
