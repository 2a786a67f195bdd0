package dev.squeeze.compress.doctor;

import dev.squeeze.core.AtomicFiles;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.train.ShuffledBatches;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.Trainer;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.data.ImageFolderDataset;
import dev.squeeze.models.zoo.ModelZoo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code squeeze doctor} as a service: loads the user's data through the same pipeline as training and
 * runs every check on the user's model, writing the curves into {@code <runs>/doctor-<hash>/}.
 */
public final class Doctor {
    public static final String STAGE = "doctor";
    /** Examples the initial-loss check averages over. */
    static final int INITIAL_LOSS_SAMPLE = 1_000;

    private final Workspace workspace;
    private final DatasetLocator locator;
    private final Consumer<String> progress;

    public Doctor(Workspace workspace, DatasetLocator locator, Consumer<String> progress) {
        this.workspace = workspace;
        this.locator = locator;
        this.progress = progress;
    }

    /** @param dataDir where the dataset's files are, or null to locate them */
    public DoctorReport examine(TrainParams params, Path dataDir) {
        ModelZoo.get(params.model());
        Datasets.check(params.dataset(), dataDir);
        params.imageOptions();
        RunPaths.requireWritable(workspace.runsRoot());
        Path curves = RunPaths.of(workspace.runsRoot(), STAGE, ConfigHash.of(params, TrainParams.HASH_BASE).value()).dir();

        Dataset dataset = params.openDataset(dataDir, locator, System.err::println);
        TrainingData data = TrainingData.prepare(dataset, params.validationFraction());
        ShuffledBatches training = ShuffledBatches.forTraining(params, data, null);
        int classes = data.classNames().size();
        List<CheckResult> checks = new ArrayList<>();

        progress.accept("checking: overfit one batch of " + OverfitOneBatchCheck.BATCH + " examples");
        checks.add(OverfitOneBatchCheck.run(Trainer.newNetwork(params, data),
                data.train().toDataSet(null, 0, Math.min(OverfitOneBatchCheck.BATCH, data.train().size())), classes, curves));
        progress.accept("checking: initial loss, activation/init pairs");
        checks.add(InitialLossCheck.run(Trainer.newNetwork(params, data),
                data.train().head(INITIAL_LOSS_SAMPLE).toDataSet(), classes));
        checks.add(InitCheck.run(Trainer.newNetwork(params, data)));
        progress.accept("checking: alignment, normalization, labels");
        checks.add(AlignmentCheck.run(data.train(), new ShuffledBatches(data.train(), params.batch(), params.seed())));
        checks.add(NormalizationCheck.run(dataset, TrainingData.carve(dataset, params.validationFraction()),
                data.normalization()));
        checks.add(LabelsCheck.run(classes, data.train(), data.validation(), data.test()));
        if (training.augmentation() != null) {
            progress.accept("checking: augmentation");
            checks.add(AugmentationCheck.run(data, new ShuffledBatches(data.train(), params.batch(), params.seed()),
                    training, training.augmentation(), dataset.labelChangingFlips(),
                    !(dataset instanceof ImageFolderDataset)));
        }
        progress.accept("checking: learning-rate range test");
        checks.add(LearningRateCheck.run(Trainer.newNetwork(params, data), training, params.learningRate(), curves));

        DoctorReport report = new DoctorReport(params.model(), data.dataset(), List.copyOf(checks), curves);
        AtomicFiles.writeString(curves.resolve("report.json"), report.json());
        return report;
    }
}
