package dev.squeeze.compress.train;

import dev.squeeze.models.zoo.Network;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.ImageDataset;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.Normalization;
import dev.squeeze.models.data.TrainValSplit;
import dev.squeeze.models.zoo.BuildSettings;
import dev.squeeze.models.zoo.ModelZoo;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * The guarded trainer against a plain loop on N-example subsets of Fashion-MNIST, for BENCHMARKS.md (issue 17,
 * point 16). The subset is a seeded, stratified sample of the 60,000 training images ({@link #subset}); the
 * test set is always the 10,000 test images.
 * <ul>
 *   <li>{@code plain}: what a user would write instead: the same model and seed, Adam at a constant 1e-3, batch 60,
 *       30 epochs, no early stopping, the last weights, trained on <em>all</em> N examples (no validation
 *       held out), normalization fitted on them;</li>
 *   <li>{@code old}, {@code new}: the guarded {@link Trainer} with the defaults before issue 17 or the current ones,
 *       which carves its 10% validation split out of the same N examples, keeps the checkpoint it chose and, where
 *       {@code --refit} applies, refits on all N ({@link Trainer#trainAndRefit}, as {@code squeeze train});</li>
 *   <li>{@code guarded}: the guarded trainer with the new defaults, overridden by {@code key=value} arguments
 *       ({@code lrDecay}, {@code patience}, {@code tolerance}, {@code refit}, {@code exampleDecay}, {@code epochs});</li>
 *   <li>{@code plaindecay EPOCHS DECAY}: the plain loop with a per-epoch decay, what a refit on all N does.</li>
 * </ul>
 * Every mode prints the test accuracy after each epoch (for guarded modes, of that epoch's weights, read back
 * from the resume checkpoint) and one {@code RESULT} line. Run with one OpenMP thread:
 * <pre>
 * ./mvnw -B -o -q test-compile dependency:build-classpath -pl compress -am -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * OMP_NUM_THREADS=1 java -Xmx2g -cp "$(cat /tmp/cp.txt):compress/target/classes:compress/target/test-classes" \
 *   dev.squeeze.compress.train.TrainDefaultsBench /usr/share/datasets/fashion-mnist 8000 plain
 * </pre>
 */
public final class TrainDefaultsBench {
    /** Seeds the subset sample; independent of the training seed and of the validation split's seed. */
    static final long SUBSET_SEED = 20_261_206L;

    /** The plain loop's settings, as the issue states them. */
    static final int PLAIN_EPOCHS = 30;
    static final int PLAIN_BATCH = 60;
    static final double PLAIN_LR = 1e-3;

    private TrainDefaultsBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String size = args[1];
        String mode = args[2];
        ImageDataset full = DatasetLoader.load("fashion-mnist", dir);
        LabeledData train = "full".equals(size) ? full.train() : subset(full.train(), Integer.parseInt(size), SUBSET_SEED);
        ImageDataset data = new ImageDataset(full.spec(), train, full.test(), full.source());
        long start = System.nanoTime();
        String result = switch (mode) {
            case "plain" -> plain(data, PLAIN_EPOCHS, 1.0);
            case "plaindecay" -> plain(data, Integer.parseInt(args[3]), Double.parseDouble(args[4]));
            case "old" -> guarded(data, oldDefaults());
            case "new" -> guarded(data, TrainParams.of("lenet-300-100"));
            case "guarded" -> guarded(data, override(TrainParams.of("lenet-300-100"), Arrays.copyOfRange(args, 3, args.length)));
            default -> throw new IllegalArgumentException("mode is plain, old, new or guarded, got " + mode);
        };
        System.out.printf(Locale.ROOT, "RESULT size=%s mode=%s %s seconds=%.0f%n", size, mode, result,
                (System.nanoTime() - start) / 1e9);
    }

    /**
     * The defaults before issue 17: decay x0.8 per epoch, patience 3, only a strictly better accuracy counts, no
     * refit, no per-examples decay.
     */
    static TrainParams oldDefaults() {
        return override(TrainParams.of("lenet-300-100"), new String[]{"lrDecay=0.8", "patience=3", "tolerance=0", "refit=never", "exampleDecay=1"});
    }

    static TrainParams override(TrainParams p, String[] settings) {
        for (String setting : settings) {
            String[] kv = setting.split("=", 2);
            p = switch (kv[0]) {
                case "lrDecay" -> TrainParams.of(p.model(), p.dataset(), p.epochs(), p.batch(), p.learningRate(), p.seed(),
                        p.patience(), p.validationFraction(), Double.parseDouble(kv[1]), p.init(), p.label(), p.categorical(),
                        p.snapshot(), p.tolerance(), p.refit(), p.exampleDecay());
                case "patience" -> TrainParams.of(p.model(), p.dataset(), p.epochs(), p.batch(), p.learningRate(), p.seed(),
                        Integer.parseInt(kv[1]), p.validationFraction(), p.lrDecay(), p.init(), p.label(), p.categorical(),
                        p.snapshot(), p.tolerance(), p.refit(), p.exampleDecay());
                case "tolerance" -> TrainParams.of(p.model(), p.dataset(), p.epochs(), p.batch(), p.learningRate(), p.seed(),
                        p.patience(), p.validationFraction(), p.lrDecay(), p.init(), p.label(), p.categorical(),
                        p.snapshot(), Double.parseDouble(kv[1]), p.refit(), p.exampleDecay());
                case "refit" -> TrainParams.of(p.model(), p.dataset(), p.epochs(), p.batch(), p.learningRate(), p.seed(),
                        p.patience(), p.validationFraction(), p.lrDecay(), p.init(), p.label(), p.categorical(),
                        p.snapshot(), p.tolerance(), Refit.parse(kv[1]), p.exampleDecay());
                case "exampleDecay" -> TrainParams.of(p.model(), p.dataset(), p.epochs(), p.batch(), p.learningRate(), p.seed(),
                        p.patience(), p.validationFraction(), p.lrDecay(), p.init(), p.label(), p.categorical(),
                        p.snapshot(), p.tolerance(), p.refit(), Double.parseDouble(kv[1]));
                case "epochs" -> p.withEpochs(Integer.parseInt(kv[1]));
                default -> throw new IllegalArgumentException("unknown setting " + kv[0]);
            };
        }
        return p;
    }

    /**
     * {@code n} examples of {@code all}, the same share of every class (rounded), each class's examples picked by a
     * permutation seeded by {@code seed} and the class; kept in their original order.
     */
    static LabeledData subset(LabeledData all, int n, long seed) {
        if (n < 1 || n > all.size()) throw new IllegalArgumentException("subset of " + n + " from " + all.size());
        int[] counts = all.classCounts();
        int[] picked = new int[n];
        int filled = 0;
        for (int c = 0; c < counts.length; c++) {
            int[] members = new int[counts[c]];
            int m = 0;
            for (int i = 0; i < all.size(); i++) if (all.labels()[i] == c) members[m++] = i;
            int take = c == counts.length - 1 ? n - filled : (int) Math.round((double) n * counts[c] / all.size());
            take = Math.min(take, Math.min(members.length, n - filled));
            int[] order = TrainValSplit.permutation(members.length, seed * 31 + c);
            for (int k = 0; k < take; k++) picked[filled++] = members[order[k]];
        }
        int[] chosen = Arrays.copyOf(picked, filled);
        Arrays.sort(chosen);
        return all.select(chosen);
    }

    private static String plain(ImageDataset data, int epochs, double decay) {
        Normalization normalization = data.fitNormalization(data.train());
        LabeledData train = normalization.apply(data.train());
        LabeledData test = normalization.apply(data.test());
        long seed = TrainParams.DEFAULT_SEED;
        var settings = new BuildSettings(seed, PLAIN_LR, data.inputShape(), data.classNames().size(), null);
        MultiLayerNetwork net = new MultiLayerNetwork(((dev.squeeze.models.zoo.ModelArchitecture.LayerStack) ModelZoo.get("lenet-300-100")).configuration(settings));
        net.init();
        ShuffledBatches batches = new ShuffledBatches(train, PLAIN_BATCH, seed);
        double acc = Double.NaN;
        for (int epoch = 1; epoch <= epochs; epoch++) {
            net.setLearningRate(PLAIN_LR * Math.pow(decay, epoch - 1));
            for (int step = 0; step < batches.batchesPerEpoch(); step++) net.fit(batches.batch(epoch, step));
            acc = Evaluator.evaluate(Network.of(net), test, data.classNames()).accuracy();
            System.out.printf(Locale.ROOT, "plain epoch %d test %.4f%n", epoch, acc);
        }
        return String.format(Locale.ROOT, "train=%d test=%.4f epochs=%d", train.size(), acc, epochs);
    }

    private static String guarded(ImageDataset source, TrainParams params) throws Exception {
        TrainingData data = TrainingData.prepare(source, params.validationFraction());
        Path root = Files.createTempDirectory("train-defaults-bench");
        RunPaths paths = RunPaths.of(root, "train", "bench");
        Files.createDirectories(paths.dir());
        ModelInfo info = new ModelInfo(params.model(), params.dataset(), null, data.inputShape(), data.classNames(),
                data.normalization(), "bench", "bench", 0, Double.NaN);
        TrainingMonitor perEpochTest = new TrainingMonitor() {
            @Override
            public void epochFinished(EpochMetrics m) {
                boolean refitting = Files.isRegularFile(paths.refit().resumeCheckpoint());
                Path last = refitting ? paths.refit().resumeCheckpoint() : paths.resumeCheckpoint();
                MultiLayerNetwork net = ModelFile.load(last, false).network().asStack();
                double test = Evaluator.evaluate(Network.of(net), data.test(), data.classNames()).accuracy();
                System.out.printf(Locale.ROOT, (refitting ? "refit" : "guarded") + " epoch %d lr %.2e val %.4f test %.4f kept %s%n", m.epoch(),
                        params.learningRateAt(m.epoch(), data.train().size()), m.validationAccuracy(), test, m.best());
            }
        };
        System.out.println("params " + params + " validation " + data.validation().size());
        TrainingResult result = new Trainer(perEpochTest).trainAndRefit(params, data, paths, info);
        double test = Evaluator.evaluate(ModelFile.load(paths.model(), false).network(), data.test(), data.classNames())
                .accuracy();
        return String.format(Locale.ROOT, "train=%d test=%.4f epochs=%d kept=%d stop=\"%s\"", data.train().size(), test,
                result.history().size(), result.bestEpoch(), result.stopReason());
    }
}
