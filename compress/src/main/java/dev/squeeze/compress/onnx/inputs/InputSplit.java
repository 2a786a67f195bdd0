package dev.squeeze.compress.onnx.inputs;

import dev.squeeze.core.BadInputException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Examples split into a calibration part and a held-out evaluation part, so that what quantization cost is never
 * measured on the inputs it was calibrated on. The split is a seeded shuffle: the same examples and seed give the same
 * split. An example is one row when every model input has a symbolic first dimension ({@link ModelSignature#batched()}),
 * otherwise one whole batch. Each part keeps its examples in their original order, regrouped into batches of at most
 * {@code batchRows} rows, rows stacked only with rows of the same source batch (whose other dimensions agree).
 *
 * @param calibration batches to calibrate on
 * @param evaluation  held-out batches to measure on; disjoint from {@code calibration}
 */
public record InputSplit(List<InputBatch> calibration, List<InputBatch> evaluation) {
    /** The most rows a regrouped batch holds unless asked otherwise. */
    public static final int BATCH_ROWS = 32;

    public InputSplit {
        calibration = List.copyOf(calibration);
        evaluation = List.copyOf(evaluation);
    }

    /** {@link #of(ModelSignature, List, double, long, int)} with batches of at most {@value #BATCH_ROWS} rows. */
    public static InputSplit of(ModelSignature signature, List<InputBatch> batches, double heldOutFraction, long seed) {
        return of(signature, batches, heldOutFraction, seed, BATCH_ROWS);
    }

    /**
     * @param heldOutFraction the share of examples held out for evaluation, in (0, 1); rounded, with at least one
     *                        example in each part
     * @throws BadInputException when there are fewer than two examples
     */
    public static InputSplit of(ModelSignature signature, List<InputBatch> batches, double heldOutFraction, long seed,
                                int batchRows) {
        if (!(heldOutFraction > 0 && heldOutFraction < 1)) {
            throw new IllegalArgumentException("the held-out fraction must be in (0, 1), got " + heldOutFraction);
        }
        List<Example> examples = examples(signature, batches);
        int n = examples.size();
        if (n < 2) {
            throw new BadInputException(sources(batches) + ": " + n + " example" + (n == 1 ? "" : "s") + ", but calibration "
                    + "and held-out evaluation need different examples; give at least 2 (hundreds measure better)");
        }
        List<Integer> order = IntStream.range(0, n).boxed().collect(Collectors.toCollection(ArrayList::new));
        Collections.shuffle(order, new Random(seed));
        int heldOut = (int) Math.max(1, Math.min(n - 1, Math.round(n * heldOutFraction)));
        List<Integer> evaluation = new ArrayList<>(order.subList(0, heldOut));
        List<Integer> calibration = new ArrayList<>(order.subList(heldOut, n));
        Collections.sort(evaluation);
        Collections.sort(calibration);
        return new InputSplit(regroup(examples, calibration, batches, batchRows), regroup(examples, evaluation, batches, batchRows));
    }

    /** Every example for evaluation, none for calibration: for quantizing that needs no calibration data (dynamic). */
    public static InputSplit evaluationOnly(ModelSignature signature, List<InputBatch> batches, int batchRows) {
        List<Example> examples = examples(signature, batches);
        if (examples.isEmpty()) throw new BadInputException(sources(batches) + ": no examples; give at least one");
        return new InputSplit(List.of(), regroup(examples, IntStream.range(0, examples.size()).boxed().toList(), batches, batchRows));
    }

    public long calibrationExamples() {
        return count(calibration);
    }

    public long evaluationExamples() {
        return count(evaluation);
    }

    private long count(List<InputBatch> part) {
        return part.stream().mapToLong(InputBatch::rows).sum();
    }

    /** Row {@code row} of batch {@code batch}, or the whole batch when {@code row} is -1. */
    private record Example(int batch, long row) {
    }

    private static List<Example> examples(ModelSignature signature, List<InputBatch> batches) {
        List<Example> out = new ArrayList<>();
        boolean rows = signature.batched();
        for (int b = 0; b < batches.size(); b++) {
            if (!rows) {
                out.add(new Example(b, -1));
                continue;
            }
            for (long r = 0; r < batches.get(b).rows(); r++) out.add(new Example(b, r));
        }
        return out;
    }

    private static List<InputBatch> regroup(List<Example> examples, List<Integer> chosen, List<InputBatch> batches, int batchRows) {
        List<InputBatch> out = new ArrayList<>();
        List<InputBatch> group = new ArrayList<>();
        int groupBatch = -1;
        for (int i : chosen) {
            Example e = examples.get(i);
            if (e.row < 0) {
                out.add(batches.get(e.batch));
                continue;
            }
            if (!group.isEmpty() && (e.batch != groupBatch || group.size() == batchRows)) {
                out.add(InputBatch.stack(group));
                group.clear();
            }
            groupBatch = e.batch;
            group.add(batches.get(e.batch).rows(e.row, e.row + 1));
        }
        if (!group.isEmpty()) out.add(InputBatch.stack(group));
        return out;
    }

    private static String sources(List<InputBatch> batches) {
        if (batches.isEmpty()) return "the input data";
        String first = batches.get(0).source();
        return batches.size() == 1 ? first : first + " and " + (batches.size() - 1) + " more";
    }
}
