package dev.squeeze.compress.onnx.quantize;

import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Datasets;

import java.nio.file.Path;

/**
 * What an ONNX file is measured on: the user's files ({@code --inputs}), a labelled dataset whose raw features the
 * model takes ({@code --dataset}: its training split to calibrate on, its test split to measure on), or nothing.
 *
 * @param inputs  an {@code .npz}, {@code .npy} or folder of request bodies, or null
 * @param dataset a registered dataset's name or a CSV file's path, as given, or null
 * @param dataDir where the dataset's files are, or null to locate them
 * @param table   a CSV dataset's label, categorical and dropped columns (as the model was trained with), or null
 */
public record OnnxData(Path inputs, String dataset, Path dataDir, Datasets.TableOptions table) {
    /** Nothing to measure on. */
    public static final OnnxData NONE = new OnnxData(null, null, null, null);

    /** @throws BadInputException when both {@code inputs} and {@code dataset} are given */
    public OnnxData {
        if (inputs != null && dataset != null) {
            throw new BadInputException("--inputs and --dataset both give data to measure on; give one: --dataset for "
                    + "a model that takes the dataset's raw features, --inputs for any other");
        }
        table = table == null ? Datasets.TableOptions.NONE : table;
    }

    /** The user's input files, or {@link #NONE} for null. */
    public static OnnxData inputs(Path inputs) {
        return new OnnxData(inputs, null, null, null);
    }

    /** A dataset by name or CSV path. */
    public static OnnxData dataset(String dataset, Path dataDir, Datasets.TableOptions table) {
        return new OnnxData(null, dataset, dataDir, table);
    }

    /** Whether there is anything to measure on. */
    public boolean given() {
        return inputs != null || dataset != null;
    }
}
