package dev.squeeze.compress.artifacts;

import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.Normalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Brings a plain DL4J model (a MultiLayerNetwork saved with ModelSerializer, not by squeeze) in: the same network in
 * a squeeze model file, with the metadata squeeze needs — the dataset it classifies, its input shape and class names —
 * and no normalization (the network receives the dataset's raw feature values, as it did when it was trained
 * outside squeeze). After this, quantize, export, bench and serve treat it like any model.
 */
public final class ModelImport {
    private ModelImport() {
    }

    /**
     * Writes {@code target}: {@code dl4jZip}'s network with metadata for {@code dataset}. The network must take the
     * dataset's features and predict its classes (checked on a test batch).
     */
    public static void importDl4j(Path dl4jZip, Dataset dataset, Path target) {
        MultiLayerNetwork net;
        try {
            net = ModelSerializer.restoreMultiLayerNetwork(dl4jZip.toFile(), false);
        } catch (IOException | RuntimeException e) {
            throw new BadInputException(dl4jZip + " is not a DL4J MultiLayerNetwork saved with ModelSerializer ("
                    + e.getMessage() + "); squeeze imports MultiLayerNetworks only");
        }
        LabeledData test = dataset.test();
        INDArray out;
        try {
            out = net.output(test.head(2).toDataSet().getFeatures(), false);
        } catch (RuntimeException e) {
            throw new BadInputException(dl4jZip + " does not take " + dataset.name() + "'s " + test.featureSize()
                    + " input features (input shape " + Arrays.toString(dataset.inputShape()) + "): " + e.getMessage());
        }
        if (out.size(1) != dataset.classNames().size()) {
            throw new BadInputException(dl4jZip + " predicts " + out.size(1) + " classes, but " + dataset.name() + " has "
                    + dataset.classNames().size());
        }
        Normalization none = Normalization.perFeature(test.head(1), new boolean[test.featureSize()]);
        String name = "imported:" + dl4jZip.getFileName();
        ModelFile.save(target, net, new ModelInfo(name, dataset.name(), null, dataset.inputShape(), dataset.classNames(),
                none, null, null, 0, Double.NaN));
    }
}
