package dev.squeeze.compress.quant;

import dev.squeeze.core.BadInputException;
import dev.squeeze.core.settings.Setting;
import dev.squeeze.core.settings.SettingSpec;
import dev.squeeze.core.settings.StageSettings;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The settings that decide what {@code squeeze quantize} produces; their hash names the run.
 *
 * @param source         the float model: its ledger run id, or the absolute path of its file when it has no run
 *                       (set by the service)
 * @param calibration    {@code auto} (try every method, keep the best on validation, or for an ONNX file on the
 *                       calibration examples) or a {@link Calibration} label
 * @param percentile     the percentile the {@code percentile} method clips at
 * @param samples        examples to calibrate on: training examples of a Squeeze model, the first of the calibration
 *                       part of an ONNX file's {@code --inputs}
 * @param granularity    weight scales per output channel or per tensor
 * @param keepFloat      what stays float: DL4J layer indices (integers) for a Squeeze model, node names for an ONNX
 *                       file; null (not given) reads as none. Indices are held as integers, so the hash of a list of
 *                       indices is what it was when the setting held only integers
 * @param bits           weight bits: 8 (int8 weights and uint8 activations) or 4 (block-wise int4 weights of the dense
 *                       layers, float activations around them; convolutions stay 8-bit)
 * @param blockSize      with 4 bits: the weights that share one scale, along each output's inputs
 * @param keep8bit       with 4 bits: DL4J indices of the dense layers left at 8 bits; null (not given) reads as none
 * @param weightSharing  int8: the most distinct non-zero values each layer's weights share ({@link WeightSharing}); 0:
 *                       every code its own value
 * @param convActivations a Squeeze model's convolutions: int8 activations (QLinearConv), or float ones with int8
 *                       weights ({@link WeightOnlyInt8Linear})
 * @param mode           {@code dynamic}, {@code static} or {@code auto}: how an ONNX file is quantized
 * @param qatEpochs      epochs of quantization-aware training (0: none, unless the budget calls for it)
 * @param accuracyBudget for a Squeeze model, the most validation accuracy, in points, the int8 model may lose (a
 *                       {@code Double}); for an ONNX file, a bound on a figure measured on the user's inputs, as
 *                       {@link FigureBudget}'s canonical text ({@code cosine>=0.99}); null for no budget. Points are
 *                       held as a number, so their hash is what it was when the setting held only points
 * @param evaluation     the SHA-256 of the inputs an ONNX file's quantization was measured on ({@code --inputs}), or
 *                       null: the figures they give are part of the run, so other inputs make another run
 * @param splitSeed      the seed of the split of an ONNX file's inputs into calibration and held-out examples (static
 *                       mode), or null when they are not split
 * @param weightScales   the version of a Squeeze model's quantized weights, where the quantizer changed them: null for
 *                       float32 scales, {@link #FLOAT16_SCALES} since they are rounded to float16 values,
 *                       {@link #QAT_KEEPS_ZEROS} for settings that may train (QAT) since that training keeps pruned
 *                       weights at zero and trains shared values. Not a user setting:
 *                       {@link QuantizeService} fills it in, and the hash includes it when set, so a model quantized
 *                       before is quantized again rather than reused
 */
public record QuantParams(
        String source,
        @Setting(help = "How activation ranges are calibrated: minmax, percentile or entropy; auto tries each and keeps "
                + "the most accurate on the validation split (ONNX files: on the calibration examples).", label = "METHOD",
                defaultValue = AUTO,
                choices = {AUTO, "minmax", "percentile", "entropy"})
        String calibration,
        @Setting(help = "Where the percentile method clips.", label = "P", defaultValue = "99.99", min = 50,
                minExclusive = true, max = 100)
        double percentile,
        @Setting(help = "Examples to calibrate on: training examples of a Squeeze model; for an ONNX file, the first of "
                + "the calibration part of --inputs.", defaultValue = "1000", min = 1)
        int samples,
        @Setting(help = "One weight scale per output channel, or one per layer.", defaultValue = "channel")
        Granularity granularity,
        @Setting(name = "keep-float", help = "What to leave in float: layer indices of a Squeeze model (see the "
                + "sensitivity list), e.g. 0,6; node names of an ONNX file (see the candidates table). None by default.",
                label = "LAYER|NODE", min = 0)
        List<Object> keepFloat,
        @Setting(help = "Weight bits: 8, or 4 (Squeeze models: each dense layer's weights int4 in blocks of --block-size "
                + "with a scale each, its activations float, as ONNX Runtime's 4-bit MatMul computes; convolutions stay "
                + "8-bit).", label = "8|4", defaultValue = "8")
        int bits,
        @Setting(name = "block-size", help = "With --bits 4: the weights along each output's inputs that share a scale; a "
                + "power of two >= 16, as ONNX Runtime's 4-bit kernel needs.", defaultValue = "32", min = 16)
        int blockSize,
        @Setting(name = "keep-8bit", help = "With --bits 4: dense layers left at 8 bits, by index as --keep-float names "
                + "them (see the sensitivity list), e.g. 0. None by default.", label = "LAYER", min = 0)
        List<Integer> keep8bit,
        @Setting(name = "weight-sharing", help = "Squeeze models, int8: each layer's non-zero weights share at most K "
                + "values (k-means per layer, as Deep Compression does after pruning); a pruned model's export then packs "
                + "each weight in ceil(log2(K+1)) bits and its gap. 0 (the default): off.", label = "K",
                defaultValue = "0", min = 0, max = 255)
        int weightSharing,
        @Setting(name = "conv-activations", help = "Squeeze models: what the convolutions compute in, int8 or float; "
                + "float keeps their weights int8 (as small in the file) but runs ONNX Runtime's float convolution, "
                + "faster than its int8 one on few channels (lenet-5's).", label = "int8|float", defaultValue = "int8")
        ConvActivations convActivations,
        @Setting(name = "qat-epochs", help = "Epochs of quantization-aware training after calibration; 0 for none.",
                defaultValue = "0", min = 0)
        int qatEpochs,
        @Setting(name = "accuracy-budget", help = "Squeeze models: most validation accuracy, in points, int8 may lose; QAT "
                + "is tried (" + BUDGET_QAT_EPOCHS + " epochs, or the QAT epochs given) when calibration alone loses more. "
                + "ONNX files (with --inputs or --dataset): a bound on a figure measured on them, cosine>=X, "
                + "cosine-worst>=X, rel-l2<=X, max-abs<=X, top1-drop<=POINTS or accuracy-drop<=POINTS (labels needed), "
                + "on the first output or on OUTPUT:FIGURE; the most "
                + "sensitive nodes stay float until it holds. No budget unless given.",
                label = "POINTS|FIGURE", min = 0, max = 100, check = FigureBudget.Check.class)
        Object accuracyBudget,
        @Setting(help = "ONNX files: dynamic (int8 weights, activations quantized at run time; needs no data) or static "
                + "(QDQ, activation ranges calibrated on --inputs); auto is static when --inputs are given, else dynamic. "
                + "Squeeze models are always quantized statically.", label = "MODE", defaultValue = AUTO,
                choices = {AUTO, DYNAMIC, STATIC})
        String mode,
        String evaluation,
        Long splitSeed,
        Integer weightScales) {

    /** {@link #weightScales}: a Squeeze model's weight scales are float16 values ({@link Float16}). */
    public static final int FLOAT16_SCALES = 2;
    /**
     * {@link #weightScales}: quantization-aware training keeps a pruned weight at zero and, with weight sharing,
     * trains the shared values (version 2 let pruned weights grow back and shared the codes after training). Only
     * settings that may train take it, so no other run's hash changes.
     */
    public static final int QAT_KEEPS_ZEROS = 3;
    public static final String AUTO = "auto";
    public static final String DYNAMIC = "dynamic";
    public static final String STATIC = "static";
    /** QAT epochs tried when a budget is not met by calibration alone and none were asked for. */
    public static final int BUDGET_QAT_EPOCHS = 3;
    /** The weight bits of block-wise int4 ({@code --bits 4}). */
    public static final int FOUR_BITS = 4;
    /** The weight bits of int8, the default. */
    public static final int EIGHT_BITS = 8;

    /** The settings, as options and recipe keys see them. */
    public static final StageSettings<QuantParams> SETTINGS = StageSettings.of(QuantParams.class);

    /** The defaults; fields equal to these are left out of the configuration hash. */
    public static final QuantParams DEFAULTS = SETTINGS.defaults();
    public static final double DEFAULT_PERCENTILE = DEFAULTS.percentile();
    public static final int DEFAULT_SAMPLES = DEFAULTS.samples();

    /**
     * Normalises what is kept in float: layer indices first (as integers, ascending), then names (sorted), once each;
     * the ranges and choices are checked where values come in (options, recipes) and by {@link #SETTINGS}{@code .check}
     * before a stage runs.
     */
    public QuantParams {
        TreeSet<Integer> indices = new TreeSet<>();
        TreeSet<String> names = new TreeSet<>();
        for (Object k : keepFloat == null ? List.of() : keepFloat) {
            if (k instanceof Number n) {
                indices.add(n.intValue());
            } else if (String.valueOf(k).matches("\\d{1,9}")) {
                indices.add(Integer.parseInt(String.valueOf(k)));
            } else {
                names.add(String.valueOf(k));
            }
        }
        List<Object> normalised = new ArrayList<>(indices);
        normalised.addAll(names);
        keepFloat = List.copyOf(normalised);
        keep8bit = keep8bit == null ? List.of() : List.copyOf(new TreeSet<>(keep8bit));
        if (accuracyBudget instanceof Number n) accuracyBudget = n.doubleValue();
    }

    /**
     * The budget in points, for a Squeeze model; null when none was given.
     *
     * @throws BadInputException when it is a figure bound: those are for ONNX files
     */
    public Double budgetPoints() {
        if (accuracyBudget == null || accuracyBudget instanceof Double) return (Double) accuracyBudget;
        throw new BadInputException("--accuracy-budget " + accuracyBudget + " bounds a figure measured on an ONNX file's "
                + "inputs; a Squeeze model's budget is the validation accuracy it may lose, in points, e.g. 0.5");
    }

    /**
     * The budget as a bound on a figure, for an ONNX file; null when none was given.
     *
     * @throws BadInputException when it is points: those are for Squeeze models
     */
    public FigureBudget figureBudget() {
        if (accuracyBudget == null) return null;
        if (accuracyBudget instanceof Double d) {
            throw new BadInputException("--accuracy-budget " + SettingSpec.number(d)
                    + " is validation points, for a Squeeze model; for an ONNX file bound a figure measured on --inputs, "
                    + "e.g. cosine>=0.99 or top1-drop<=" + SettingSpec.number(d));
        }
        try {
            return FigureBudget.parse(String.valueOf(accuracyBudget));
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--accuracy-budget must be " + new FigureBudget.Check().accepts() + ", got '"
                    + accuracyBudget + "'");
        }
    }

    /**
     * The DL4J layer indices kept in float.
     *
     * @throws BadInputException when a name was given: Squeeze models' layers are named by index
     */
    public List<Integer> layerIndices() {
        List<Integer> out = new ArrayList<>();
        for (Object k : keepFloat) {
            if (!(k instanceof Integer i)) {
                throw new BadInputException("--keep-float " + k + ": a Squeeze model's layers are given by index (the "
                        + "numbers in the sensitivity list); node names are for ONNX files");
            }
            out.add(i);
        }
        return out;
    }

    /** Whether dense layers' weights are block-wise int4 ({@code --bits 4}). */
    public boolean fourBit() {
        return bits == FOUR_BITS;
    }

    /**
     * Checks the settings of the bit width together: 8 or 4 bits; with 4, a block size that is a power of two; the
     * 4-bit settings only with 4 bits.
     *
     * @throws BadInputException naming the setting and what to give instead
     */
    public void checkBits() {
        if (bits != EIGHT_BITS && bits != FOUR_BITS) {
            throw new BadInputException("--bits " + bits + ": quantize writes 8-bit weights (the default) or 4-bit "
                    + "weights of the dense layers; give --bits 8 or --bits 4");
        }
        if (fourBit() && Integer.bitCount(blockSize) != 1) {
            throw new BadInputException("--block-size " + blockSize + " is not a power of two: ONNX Runtime runs 4-bit "
                    + "weights on its MatMulNBits kernel only for blocks of 16, 32, 64, 128, ...; give one of those "
                    + "(default " + DEFAULTS.blockSize() + ")");
        }
        if (!fourBit() && blockSize != DEFAULTS.blockSize()) {
            throw new BadInputException("--block-size sets the blocks of 4-bit weights; give it with --bits 4 (8-bit "
                    + "weights have a scale per output channel or per tensor: --granularity)");
        }
        if (fourBit() && weightSharing > 0) {
            throw new BadInputException("--weight-sharing " + weightSharing + " shares int8 weight values; 4-bit weights "
                    + "have 15 values a block already: give it without --bits 4");
        }
        if (!fourBit() && !keep8bit.isEmpty()) {
            throw new BadInputException("--keep-8bit " + SettingSpec.text(keep8bit) + " keeps layers at 8 bits in a "
                    + "4-bit model; give it with --bits 4 (to keep a layer out of int8, use --keep-float)");
        }
    }

    /** What is kept in float, each as text: the node names of an ONNX file. */
    public List<String> keepFloatNames() {
        return keepFloat.stream().map(String::valueOf).toList();
    }

    /** The calibration methods to try, in order. */
    public List<Calibration> methods() {
        if (!AUTO.equals(calibration)) return List.of(Calibration.parse(calibration));
        return new ArrayList<>(List.of(Calibration.MINMAX, Calibration.PERCENTILE, Calibration.ENTROPY));
    }

    /** Settings measured on no inputs of the user's own (every Squeeze model, and an ONNX file given none). */
    public QuantParams(String source, String calibration, double percentile, int samples, Granularity granularity,
                       List<Object> keepFloat, int qatEpochs, Object accuracyBudget, String mode) {
        this(source, calibration, percentile, samples, granularity, keepFloat, EIGHT_BITS, DEFAULTS.blockSize(), List.of(), 0,
                ConvActivations.INT8, qatEpochs,
                accuracyBudget, mode, null, null, null);
    }

    /** These settings with the version of the weight scales the quantizer now writes for a Squeeze model. */
    public QuantParams withCurrentWeightScales() {
        boolean mayTrain = qatEpochs() > 0 || accuracyBudget() != null;
        return SETTINGS.with(this, "weightScales", mayTrain ? QAT_KEEPS_ZEROS : FLOAT16_SCALES);
    }

    public QuantParams withSource(String newSource) {
        return SETTINGS.with(this, "source", newSource);
    }
}
