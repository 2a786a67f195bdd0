package dev.squeeze.compress.quant;

import dev.squeeze.core.BadInputException;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The settings that decide what {@code squeeze quantize} produces; their hash names the run.
 *
 * @param source         the float model: its ledger run id, or the absolute path of its file when it has no run
 * @param calibration    {@code auto} (try every method, keep the best on validation) or a {@link Calibration} label
 * @param percentile     the percentile the {@code percentile} method clips at
 * @param samples        training examples to calibrate on
 * @param granularity    weight scales per output channel or per tensor
 * @param keepFloat      DL4J layer indices left in float
 * @param qatEpochs      epochs of quantization-aware training (0: none, unless the budget calls for it)
 * @param accuracyBudget most validation accuracy, in points, the int8 model may lose; null for no budget
 */
public record QuantParams(String source, String calibration, double percentile, int samples, Granularity granularity,
                          List<Integer> keepFloat, int qatEpochs, Double accuracyBudget) {

    public static final String AUTO = "auto";
    public static final double DEFAULT_PERCENTILE = 99.99;
    public static final int DEFAULT_SAMPLES = 1000;
    /** QAT epochs tried when a budget is not met by calibration alone and none were asked for. */
    public static final int BUDGET_QAT_EPOCHS = 3;
    public static final QuantParams DEFAULTS = new QuantParams(null, AUTO, DEFAULT_PERCENTILE, DEFAULT_SAMPLES,
            Granularity.CHANNEL, List.of(), 0, null);

    public QuantParams {
        if (!AUTO.equals(calibration)) calibration = Calibration.parse(calibration).label();
        if (!(percentile > 50 && percentile <= 100)) {
            throw new BadInputException("--percentile must lie in (50, 100], e.g. 99.99, got " + percentile);
        }
        if (samples < 1) throw new BadInputException("--samples must be at least 1, got " + samples);
        if (qatEpochs < 0) throw new BadInputException("--qat-epochs cannot be negative, got " + qatEpochs);
        if (accuracyBudget != null && !(accuracyBudget >= 0 && accuracyBudget <= 100)) {
            throw new BadInputException("--accuracy-budget is in accuracy points, between 0 and 100, got " + accuracyBudget);
        }
        keepFloat = List.copyOf(new TreeSet<>(keepFloat == null ? List.of() : keepFloat));
    }

    /** The calibration methods to try, in order. */
    public List<Calibration> methods() {
        if (!AUTO.equals(calibration)) return List.of(Calibration.parse(calibration));
        return new ArrayList<>(List.of(Calibration.MINMAX, Calibration.PERCENTILE, Calibration.ENTROPY));
    }

    public QuantParams withSource(String newSource) {
        return new QuantParams(newSource, calibration, percentile, samples, granularity, keepFloat, qatEpochs, accuracyBudget);
    }
}
