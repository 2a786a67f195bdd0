package dev.squeeze.compress.quant;

import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.models.data.LabeledData;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * The distribution of every calibration point of a float network over calibration examples, gathered once (two
 * passes: ranges, then histograms) so that each calibration method's ranges come from the same statistics.
 */
public final class CalibrationStatistics {
    private static final int BATCH = 500;

    private final List<TensorStatistics> points;

    private CalibrationStatistics(List<TensorStatistics> points) {
        this.points = points;
    }

    /** @param samples normalised examples to calibrate on (training examples, never test) */
    public static CalibrationStatistics collect(StepNetwork floatNetwork, LabeledData samples) {
        if (!floatNetwork.isFullyFloat()) throw new IllegalArgumentException("calibrate the float network");
        int count = floatNetwork.calibrationPointCount();   // the input, every layer and add output but the last layer's
        List<TensorStatistics> stats = new ArrayList<>();
        for (int i = 0; i < count; i++) stats.add(new TensorStatistics());
        for (int pass = 0; pass < 2; pass++) {
            boolean ranges = pass == 0;
            for (int from = 0; from < samples.size(); from += BATCH) {
                INDArray features = samples.toDataSet(null, from, Math.min(samples.size(), from + BATCH)).getFeatures();
                floatNetwork.forward(features, (point, tensor) -> {
                    if (point >= count) return;
                    float[] values = tensor.values().castTo(DataType.FLOAT).dup('c').data().asFloat();
                    if (ranges) stats.get(point).observeRange(values);
                    else stats.get(point).observeHistogram(values);
                });
            }
        }
        return new CalibrationStatistics(stats);
    }

    /** Each point's quantization under {@code method} ({@code percentile} is used by PERCENTILE only). */
    public List<ActivationQuant> quantizations(Calibration method, double percentile) {
        List<ActivationQuant> out = new ArrayList<>();
        for (TensorStatistics s : points) {
            TensorStatistics.Range r = s.range(method, percentile);
            out.add(ActivationQuant.fromRange(r.lo(), r.hi()));
        }
        return out;
    }
}
