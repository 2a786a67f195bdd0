package dev.squeeze.compress.doctor;

import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.models.data.CsvDataset;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.data.Normalization;
import dev.squeeze.models.data.TrainValSplit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The talk's tabular bug on a real table (Palmer penguins): standardising categorical columns. */
class TabularDoctorTest {
    private static final Path PENGUINS = Path.of(System.getProperty("squeeze.fixtures"), "penguins", "penguins.csv");
    private static final Datasets.TableOptions SPECIES = new Datasets.TableOptions("species", null);

    @TempDir
    Path tmp;

    @Test
    void standardisingCategoricalColumnsIsCaughtByName() {
        CsvDataset penguins = CsvDataset.read(PENGUINS, SPECIES, line -> { });
        TrainValSplit split = TrainingData.carve(penguins, TrainParams.DEFAULT_VALIDATION_FRACTION);
        boolean[] everything = new boolean[penguins.columns().size()];
        Arrays.fill(everything, true);   // scaler.fit_transform(data.values): every column, categorical ones too
        Normalization wrong = Normalization.perFeature(split.train(), everything);

        CheckResult result = NormalizationCheck.run(penguins, split, wrong);
        assertEquals(Verdict.FAIL, result.verdict());
        assertTrue(result.evidence().contains("categorical columns standardised"), result.evidence());
        assertTrue(result.evidence().contains("sex=male (binary"), result.evidence());
        assertTrue(result.evidence().contains("island=Biscoe (one-hot"), result.evidence());
        assertTrue(result.fix().contains("bill_length_mm"), "names the columns that may be standardised: " + result.fix());

        CheckResult right = NormalizationCheck.run(penguins, split, penguins.fitNormalization(split.train()));
        assertEquals(Verdict.PASS, right.verdict(), right.evidence());
    }

    @Test
    void aCorrectTabularSetUpPassesTheDoctor() {
        var params = TrainParams.of("mlp-tabular").withDataset(PENGUINS.toString(), "species", null).withLearningRate(1e-2);
        DoctorReport report = new Doctor(new Workspace(tmp, tmp.resolve("l.db").toString()),
                new DatasetLocator(null, null, null), line -> { }).examine(params, null);
        assertFalse(report.failed(), report.format());
        assertEquals("penguins.csv", report.dataset());
    }
}
