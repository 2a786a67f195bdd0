package dev.squeeze.compress.saved;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.eval.Classifier;
import dev.squeeze.compress.eval.Evaluation;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.quant.QuantizedModelFile;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.LabeledData;

import java.nio.file.Path;
import java.util.Arrays;

/** Evaluates a saved model (float or int8) on a dataset's test set with the normalization saved in the model file. */
public final class EvaluationService {
    private final DatasetLocator locator;

    public EvaluationService(DatasetLocator locator) {
        this.locator = locator;
    }

    /**
     * @param dataset the dataset to test on, or null for the one the model was trained on
     * @param dataDir where the dataset's files are, or null to locate them
     */
    public Evaluation evaluateTestSet(Path modelFile, String dataset, Path dataDir) {
        ModelInfo info;
        Classifier model;
        if (ModelFile.isInt8(modelFile)) {
            var loaded = QuantizedModelFile.load(modelFile);
            info = loaded.info();
            model = loaded.network();
        } else {
            ModelFile.Loaded loaded = ModelFile.load(modelFile, false);
            info = loaded.info();
            model = loaded.network()::output;
        }
        String name = dataset != null ? dataset : info.dataset();
        Dataset data = info.openDataset(name, dataDir, locator, System.err::println);
        LabeledData test = data.test();
        long expectedFeatures = Arrays.stream(info.inputShape()).reduce(1, (a, b) -> a * b);
        if (test.featureSize() != expectedFeatures || test.numClasses() != info.numClasses()) {
            throw new BadInputException(modelFile + " takes " + expectedFeatures + " inputs and predicts "
                    + info.numClasses() + " classes, but " + name + " has " + test.featureSize() + " inputs and "
                    + test.numClasses() + " classes; pick the dataset it was trained on (" + info.dataset() + ")");
        }
        return Evaluator.evaluate(model, info.normalization().apply(test), data.classNames());
    }
}
