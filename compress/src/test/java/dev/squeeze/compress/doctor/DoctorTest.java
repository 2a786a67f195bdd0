package dev.squeeze.compress.doctor;

import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.train.BatchSource;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.ShuffledBatches;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Normalization;
import dev.squeeze.models.data.TrainValSplit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Deliberately broken set-ups, each caught with the right diagnosis; a correct one passes every check. */
class DoctorTest {
    private static Dataset fashion;
    private static TrainingData data;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        fashion = DatasetLoader.load("fashion-mnist", Fixtures.fashionMnistDir());
        data = TrainingData.prepare(fashion, TrainParams.DEFAULT_VALIDATION_FRACTION);
    }

    private DoctorReport examine(TrainParams params) {
        return new Doctor(new Workspace(tmp, tmp.resolve("ledger.db").toString()), new DatasetLocator(null, null, null),
                line -> { }).examine(params, Fixtures.fashionMnistDir());
    }

    private static Map<String, CheckResult> byName(DoctorReport report) {
        return report.checks().stream().collect(Collectors.toMap(CheckResult::check, c -> c));
    }

    @Test
    void aCorrectSetUpPassesEveryCheckAndDrawsItsCurves() {
        DoctorReport report = examine(TrainParams.of("lenet-300-100"));
        assertEquals(7, report.checks().size());
        for (CheckResult c : report.checks()) assertEquals(Verdict.PASS, c.verdict(), c.check() + ": " + c.evidence());
        assertFalse(report.failed());
        for (String file : new String[]{"overfit-one-batch.csv", "overfit-one-batch.png", "lr-range.csv", "lr-range.png", "report.json"}) {
            assertTrue(Files.isRegularFile(report.artifacts().resolve(file)), file);
        }
        assertTrue(report.format().contains("7 checks: 7 pass, 0 warn, 0 fail"), report.format());
    }

    @Test
    void aTooHighLearningRateIsCaught() {
        Map<String, CheckResult> checks = byName(examine(TrainParams.of("lenet-300-100").withLearningRate(1.0)));
        CheckResult lr = checks.get(LearningRateCheck.NAME);
        assertEquals(Verdict.FAIL, lr.verdict(), lr.evidence());
        assertTrue(lr.evidence().contains("configured 1.0 lies in the diverging region"), lr.evidence());
        CheckResult overfit = checks.get(OverfitOneBatchCheck.NAME);
        assertEquals(Verdict.FAIL, overfit.verdict());
        assertTrue(overfit.evidence().contains("goes up instead of down"), overfit.evidence());
        assertTrue(overfit.fix().contains("learning rate far too high"), overfit.fix());
    }

    @Test
    void anAllZeroInitPlateausAndIsNamed() {
        Map<String, CheckResult> checks = byName(examine(TrainParams.of("lenet-300-100").withInit("zero")));
        CheckResult overfit = checks.get(OverfitOneBatchCheck.NAME);
        assertEquals(Verdict.FAIL, overfit.verdict());
        assertTrue(overfit.evidence().contains("plateaus at") && overfit.evidence().contains("ignores its inputs"),
                overfit.evidence());
        assertTrue(overfit.fix().contains("all-zero"), overfit.fix());
        CheckResult init = checks.get(InitCheck.NAME);
        assertEquals(Verdict.FAIL, init.verdict());
        assertTrue(init.evidence().contains("0 (relu, zero)"), init.evidence());
    }

    @Test
    void reluWithXavierIsAWarningNamingTheLayers() {
        CheckResult init = byName(examine(TrainParams.of("lenet-300-100").withInit("xavier"))).get(InitCheck.NAME);
        assertEquals(Verdict.WARN, init.verdict());
        assertTrue(init.evidence().contains("ReLU with Xavier/Glorot in layers 0 (relu, xavier), 1 (relu, xavier)"),
                init.evidence());
        assertTrue(init.fix().contains("He"), init.fix());
    }

    @Test
    void labelsShuffledApartFromFeaturesAreCaught() {
        // The talk's bug: X_train = shuffle(X_train); y_train = shuffle(y_train), each with its own order.
        BatchSource broken = new BatchSource() {
            final ShuffledBatches features = new ShuffledBatches(data.train(), 60, 1);
            final ShuffledBatches labels = new ShuffledBatches(data.train(), 60, 2);

            @Override
            public int batchesPerEpoch() {
                return features.batchesPerEpoch();
            }

            @Override
            public DataSet batch(int epoch, int step) {
                return new DataSet(features.batch(epoch, step).getFeatures(), labels.batch(epoch, step).getLabels());
            }
        };
        CheckResult result = AlignmentCheck.run(data.train(), broken);
        assertEquals(Verdict.FAIL, result.verdict());
        assertTrue(result.evidence().contains("features and labels were shuffled apart"), result.evidence());

        CheckResult real = AlignmentCheck.run(data.train(), new ShuffledBatches(data.train(), 60, 1));
        assertEquals(Verdict.PASS, real.verdict(), real.evidence());
    }

    @Test
    void unshuffledBatchesAreAWarning() {
        BatchSource inOrder = new BatchSource() {
            @Override
            public int batchesPerEpoch() {
                return data.train().size() / 60;
            }

            @Override
            public DataSet batch(int epoch, int step) {
                return data.train().toDataSet(null, step * 60, step * 60 + 60);
            }
        };
        assertEquals(Verdict.WARN, AlignmentCheck.run(data.train(), inOrder).verdict());
    }

    @Test
    void testDataLeakingIntoNormalizationIsCaught() {
        TrainValSplit split = TrainingData.carve(fashion, TrainParams.DEFAULT_VALIDATION_FRACTION);
        Normalization leaked = Normalization.global(split.train().concat(split.validation()).concat(fashion.test()));
        CheckResult result = NormalizationCheck.run(fashion, split, leaked);
        assertEquals(Verdict.FAIL, result.verdict());
        assertTrue(result.evidence().contains("statistics include the test set"), result.evidence());

        Normalization withValidation = Normalization.global(split.train().concat(split.validation()));
        CheckResult val = NormalizationCheck.run(fashion, split, withValidation);
        assertEquals(Verdict.FAIL, val.verdict());
        assertTrue(val.evidence().contains("include the validation split"), val.evidence());

        assertEquals(Verdict.PASS, NormalizationCheck.run(fashion, split, data.normalization()).verdict());
    }

    @Test
    void testExamplesCopiedFromTrainingAreCounted() {
        var train = data.train();
        var test = train.head(30).concat(data.test().head(370));
        CheckResult result = LabelsCheck.run(10, train, data.validation(), test);
        assertEquals(Verdict.FAIL, result.verdict(), result.evidence());
        assertTrue(result.evidence().contains("30 test examples (7.50%) are exact copies"), result.evidence());
        assertEquals(Verdict.PASS, LabelsCheck.run(10, train, data.validation(), data.test()).verdict());
    }

    @Test
    void aConfidentlyWrongStartIsCaught() {
        var net = dev.squeeze.compress.train.Trainer.newNetwork(TrainParams.of("mlp-tiny"), data);
        net.getParam("1_W").muli(40);   // huge output weights: confident, random answers
        CheckResult result = InitialLossCheck.run(net, data.train().head(500).toDataSet(), 10);
        assertEquals(Verdict.FAIL, result.verdict(), result.evidence());
        assertTrue(result.fix().contains("confidently wrong"), result.fix());
        assertTrue(Nd4j.getEnvironment() != null);
    }
}
