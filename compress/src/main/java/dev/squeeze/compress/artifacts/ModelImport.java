package dev.squeeze.compress.artifacts;

import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.Normalization;
import dev.squeeze.models.zoo.Network;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Brings a plain DL4J model (a MultiLayerNetwork or a ComputationGraph with one input and one output, saved with
 * ModelSerializer, not by squeeze) in: the same network in
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
        importDl4j(dl4jZip, dataset, dataset.name(), null, target);
    }

    /**
     * As {@link #importDl4j(Path, Dataset, Path)}, recording the dataset as the user named it ({@code --dataset}: a
     * CSV file's or image folder's path, which the dataset's own name, the file or folder name, may not find again)
     * and a CSV file's table options, so later stages open the same data.
     */
    public static void importDl4j(Path dl4jZip, Dataset dataset, String datasetAsGiven, Datasets.TableOptions table,
                                  Path target) {
        Network net;
        try {
            net = ModelFile.readNetwork(dl4jZip, false);
        } catch (BadInputException e) {
            throw new BadInputException(dl4jZip + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new BadInputException(dl4jZip + " is not a DL4J MultiLayerNetwork or ComputationGraph saved with "
                    + "ModelSerializer (" + e.getMessage() + ")");
        }
        LabeledData test = dataset.test();
        INDArray out;
        try {
            out = net.output(test.head(2).toDataSet().getFeatures());
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
        ModelFile.save(target, net, new ModelInfo(name, datasetAsGiven, table, dataset.inputShape(), dataset.classNames(),
                none, null, null, 0, Double.NaN));
    }
}
