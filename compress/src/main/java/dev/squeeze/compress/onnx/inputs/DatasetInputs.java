package dev.squeeze.compress.onnx.inputs;

import dev.squeeze.compress.quant.QuantizeService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.LabeledData;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A labelled dataset's raw features (pixels 0-255, a table's encoded values: what {@code squeeze export} writes models
 * to take, normalization inside the graph) as the single float input of an ONNX model: calibration batches from the
 * training split (a seeded sample, the one {@code squeeze quantize} calibrates Squeeze models on), evaluation batches
 * from the test split with their labels, never mixed. The same shape of thing as an {@link InputSplit} of the user's
 * files, so whoever calibrates or measures takes either.
 *
 * <p>{@link #featureInput} and {@link #batch} are the one definition of how dataset rows become that input's tensor:
 * each row reshaped to the input's declared shape after its first (batch) dimension. Distillation from an ONNX teacher
 * feeds its teacher the same way.
 *
 * @param dataset     the dataset's name ({@code fashion-mnist}, {@code penguins.csv})
 * @param sha256      the SHA-256 of what is fed: both splits' features and labels, and the class names
 * @param input       the model input the features feed
 * @param calibration batches of training examples, at most {@code samples} of them
 * @param evaluation  batches of every test example that fills a batch, each batch with its labels
 */
public record DatasetInputs(String dataset, String sha256, TensorSignature input, List<InputBatch> calibration,
                            List<InputBatch> evaluation) {

    public DatasetInputs {
        calibration = List.copyOf(calibration);
        evaluation = List.copyOf(evaluation);
    }

    /**
     * The dataset's training and test splits as batches for {@code signature}'s one input.
     *
     * @param samples   the most training examples to calibrate on ({@code --samples})
     * @param batchRows rows per batch for a model with a symbolic batch dimension (a fixed one sets its own)
     * @throws BadInputException when the model does not take the dataset's raw features (see {@link #featureInput})
     */
    public static DatasetInputs of(Dataset data, ModelSignature signature, int samples, int batchRows) {
        TensorSignature input = featureInput(signature, data);
        LabeledData calibration = QuantizeService.sample(data.train(), samples);
        return new DatasetInputs(data.name(), sha256(data), input,
                batches(input, calibration, data.name() + " training examples", batchRows),
                batches(input, data.test(), data.name() + " test split", batchRows));
    }

    /** {@link #of(Dataset, ModelSignature, int, int)} with batches of at most {@value InputSplit#BATCH_ROWS} rows. */
    public static DatasetInputs of(Dataset data, ModelSignature signature, int samples) {
        return of(data, signature, samples, InputSplit.BATCH_ROWS);
    }

    /** The two parts as an {@link InputSplit}: calibration from the training split, evaluation from the test split. */
    public InputSplit split() {
        return new InputSplit(calibration, evaluation);
    }

    /** The test labels, in the order of the evaluation batches' rows. */
    public long[] evaluationLabels() {
        return evaluation.stream().flatMapToLong(b -> Arrays.stream(b.labels())).toArray();
    }

    public long calibrationExamples() {
        return calibration.stream().mapToLong(InputBatch::rows).sum();
    }

    public long evaluationExamples() {
        return evaluation.stream().mapToLong(InputBatch::rows).sum();
    }

    /**
     * The model input that takes {@code data}'s raw features, checked before any work: the model has exactly one
     * input, of FP32 or FP64, with a declared shape whose dimensions after the first are fixed and hold one example's
     * feature count between them.
     *
     * @throws BadInputException naming the inputs, the input's shape and type, and the dataset's feature count
     */
    public static TensorSignature featureInput(ModelSignature signature, Dataset data) {
        int features = data.train().featureSize();
        List<TensorSignature> inputs = signature.inputs();
        String dataset = data.name() + ", which has " + features + " features per example (shape "
                + Arrays.toString(data.inputShape()) + ")";
        if (inputs.size() != 1) {
            throw new BadInputException("the model has " + inputs.size() + " inputs (" + signature.describeInputs()
                    + "), but a dataset's features feed a model with one input; give --inputs with data for every input");
        }
        TensorSignature in = inputs.get(0);
        if (in.type() != ElementType.FP32 && in.type() != ElementType.FP64) {
            throw new BadInputException("the model's input " + in + " is not float, so it does not take the raw features "
                    + "of " + dataset + "; give --inputs with the data it takes");
        }
        long[] shape = in.shape();
        if (shape == null || shape.length < 2) {
            throw new BadInputException("the model's input " + in + " has " + (shape == null ? "no declared shape"
                    : "no dimension besides the batch") + ", so the features of " + dataset + " cannot be laid out on "
                    + "it; it needs a shape [batch, ...] whose dimensions after the batch hold " + features + " values");
        }
        long perRow = 1;
        boolean fixed = true;
        for (int d = 1; d < shape.length; d++) {
            fixed &= shape[d] >= 0;
            perRow *= Math.max(shape[d], 1);
        }
        if (!fixed || perRow != features) {
            throw new BadInputException("the model's input " + in + " takes " + (fixed ? perRow + " values per example"
                    : "examples of a free size") + ", not the raw features of " + dataset + "; give the dataset the "
                    + "model was trained on, or --inputs with the data it takes");
        }
        return in;
    }

    /**
     * Rows {@code [from, to)} of {@code data}'s raw features (and their labels) as one batch for {@code input}, each row
     * reshaped to the input's dimensions after the first.
     *
     * @param input an input accepted by {@link #featureInput}
     */
    public static InputBatch batch(TensorSignature input, LabeledData data, int from, int to, String source) {
        int f = data.featureSize();
        long[] inShape = input.shape();
        long[] shape = inShape.clone();
        shape[0] = to - from;
        float[] rows = Arrays.copyOfRange(data.features(), from * f, to * f);
        InputTensor tensor;
        if (input.type() == ElementType.FP64) {
            double[] d = new double[rows.length];
            for (int i = 0; i < rows.length; i++) d[i] = rows[i];
            tensor = new InputTensor(ElementType.FP64, shape, d);
        } else {
            tensor = new InputTensor(ElementType.FP32, shape, rows);
        }
        long[] labels = Arrays.stream(Arrays.copyOfRange(data.labels(), from, to)).asLongStream().toArray();
        return new InputBatch(source, Map.of(input.name(), tensor), labels);
    }

    /**
     * All of {@code data} in batches: of {@code batchRows} rows for a symbolic batch dimension, else of exactly the
     * fixed batch size (rows that do not fill a last batch are left out).
     */
    static List<InputBatch> batches(TensorSignature input, LabeledData data, String what, int batchRows) {
        long fixed = input.shape()[0];
        int rows = fixed >= 0 ? (int) fixed : batchRows;
        int n = fixed >= 0 ? data.size() - data.size() % rows : data.size();
        List<InputBatch> out = new ArrayList<>();
        for (int from = 0; from < n; from += rows) {
            int to = Math.min(n, from + rows);
            out.add(batch(input, data, from, to, String.format(Locale.ROOT, "%s rows %d-%d", what, from, to - 1)));
        }
        return out;
    }

    /** The content hash of both splits and the class names: another file, subset or encoding is another dataset. */
    static String sha256(Dataset data) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(String.join("\n", data.classNames()).getBytes(StandardCharsets.UTF_8));
            for (LabeledData split : List.of(data.train(), data.test())) {
                ByteBuffer head = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
                head.putInt(split.size()).putInt(split.featureSize()).putInt(split.numClasses());
                digest.update(head.array());
                float[] features = split.features();
                ByteBuffer chunk = ByteBuffer.allocate(4 * 65_536).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < features.length; i += 65_536) {
                    chunk.clear();
                    chunk.asFloatBuffer().put(features, i, Math.min(65_536, features.length - i));
                    digest.update(chunk.array(), 0, 4 * Math.min(65_536, features.length - i));
                }
                ByteBuffer labels = ByteBuffer.allocate(4 * split.size()).order(ByteOrder.LITTLE_ENDIAN);
                labels.asIntBuffer().put(split.labels());
                digest.update(labels.array());
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
