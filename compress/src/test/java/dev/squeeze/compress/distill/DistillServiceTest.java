package dev.squeeze.compress.distill;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunQuery;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetLocator;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Distillation through the real loop on real fixture data, with a real SQLite ledger. */
class DistillServiceTest {
    @TempDir
    Path home;

    private Workspace workspace() {
        return new Workspace(home, home.resolve("ledger.db").toString());
    }

    private TrainOutcome train(TrainParams params, Path data) {
        return new TrainingService(workspace(), new DatasetLocator(null, null, null), TrainingMonitor.SILENT)
                .train(params, data, false);
    }

    private DistillService service() {
        return new DistillService(workspace(), new DatasetLocator(null, null, null), TrainingMonitor.SILENT);
    }

    private static final TrainParams STUDENT = TrainParams.of("mlp-tiny", "fashion-mnist", 3, 60, 1e-3, 3, 3, 0.1, 0.8);

    @Test
    void distilsAnEnsembleAndRecordsTheStudentAloneBesideIt() {
        TrainOutcome t1 = train(TrainParams.of("lenet-300-100", "fashion-mnist", 3, 60, 1e-3, 1, 3, 0.1, 0.8), Fixtures.fashionMnistDir());
        TrainOutcome t2 = train(TrainParams.of("lenet-300-100", "fashion-mnist", 3, 60, 1e-3, 2, 3, 0.1, 0.8), Fixtures.fashionMnistDir());
        DistillOutcome outcome = service().distill(List.of(t1.run().id(), t2.paths().model().toString()), STUDENT,
                List.of(2.0, 4.0), 0.7, Fixtures.fashionMnistDir());

        assertEquals(2, outcome.teachers().size());
        assertTrue(outcome.ensemble() != null && outcome.ensemble().testAccuracy() > 0.5, "ensemble accuracy reported");
        assertEquals(2, outcome.distilled().size());
        assertTrue(outcome.format().contains("student mlp-tiny alone") && outcome.format().contains("ensemble of 2"),
                outcome.format());

        var saved = ModelFile.load(outcome.model(), false).network();
        var output = saved.outputLayer();
        assertInstanceOf(LossMCXENT.class, output.getLossFn(), "the saved student is a plain classifier");

        try (RunLedger ledger = RunLedger.open(workspace().ledgerLocation())) {
            List<RunRecord> distilled = ledger.query(RunQuery.all().withStage(DistillService.STAGE));
            assertEquals(2, distilled.size());
            String details = distilled.get(0).details();
            assertTrue(details.contains("\"student_alone_test_acc\"") && details.contains("\"ensemble_test_acc\"")
                    && details.contains("\"alpha\":0.7"), details);
            assertEquals(3, ledger.query(RunQuery.all().withStage(TrainingService.STAGE)).size(), "two teachers, the student alone");
        }

        // Again: the student alone and the distilled students are reused, nothing is trained twice.
        DistillOutcome again = service().distill(List.of(t1.run().id(), t2.run().id()), STUDENT, List.of(4.0), 0.7,
                Fixtures.fashionMnistDir());
        assertEquals(outcome.distilled().get(1).runId(), again.distilled().get(0).runId());
        assertEquals(outcome.alone().runId(), again.alone().runId());
    }

    @Test
    void withAlphaZeroTheDistilledStudentIsExactlyTheStudentAlone() {
        TrainOutcome teacher = train(TrainParams.of("lenet-300-100", "fashion-mnist", 2, 60, 1e-3, 1, 3, 0.1, 0.8), Fixtures.fashionMnistDir());
        DistillOutcome outcome = service().distill(List.of(teacher.run().id()), STUDENT, List.of(4.0), 0.0,
                Fixtures.fashionMnistDir());
        // alpha 0 leaves only cross-entropy on the hard labels: same loss, same gradients, same batches.
        assertEquals(outcome.alone().testAccuracy(), outcome.distilled().get(0).testAccuracy(), 0.0);
        assertEquals(outcome.alone().validationAccuracy(), outcome.distilled().get(0).validationAccuracy(), 0.0);
    }

    @Test
    void anEnsembleRunStandsForItsMembers() {
        var ensemble = new EnsembleService(workspace(), new DatasetLocator(null, null, null), TrainingMonitor.SILENT)
                .train(TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 7, 3, 0.1, 0.8), 3, Fixtures.fashionMnistDir());
        assertEquals(3, ensemble.members().size());
        assertEquals(EnsembleService.STAGE, ensemble.run().stage());
        DistillOutcome outcome = service().distill(List.of(ensemble.run().id()), STUDENT, List.of(4.0), 0.9,
                Fixtures.fashionMnistDir());
        assertEquals(3, outcome.teachers().size(), "the ensemble's members are the teachers");
        assertEquals(ensemble.run().testAcc(), outcome.ensemble().testAccuracy(), 1e-12);
    }

    @Test
    void aStudentCanStartFromAFileOfItsArchitecture() {
        TrainOutcome teacher = train(TrainParams.of("lenet-300-100", "fashion-mnist", 2, 60, 1e-3, 1, 3, 0.1, 0.8), Fixtures.fashionMnistDir());
        TrainOutcome start = train(STUDENT.withSeed(99), Fixtures.fashionMnistDir());
        DistillOutcome fromFile = service().distill(List.of(teacher.run().id()), STUDENT, List.of(4.0), 0.5,
                start.paths().model(), Fixtures.fashionMnistDir());
        DistillOutcome fresh = service().distill(List.of(teacher.run().id()), STUDENT, List.of(4.0), 0.5, null,
                Fixtures.fashionMnistDir());
        assertTrue(!fromFile.distilled().get(0).runId().equals(fresh.distilled().get(0).runId()), "a different run");
        var e = assertThrows(BadInputException.class, () -> service().distill(List.of(teacher.run().id()), STUDENT,
                List.of(4.0), 0.5, teacher.paths().model(), Fixtures.fashionMnistDir()));
        assertTrue(e.getMessage().contains("--student-from"), e.getMessage());
    }

    @Test
    void aConvolutionalStudentLearnsFromADenseTeacher() {
        TrainOutcome teacher = train(TrainParams.of("lenet-300-100", "fashion-mnist", 2, 60, 1e-3, 1, 3, 0.1, 0.8), Fixtures.fashionMnistDir());
        TrainParams cnn = TrainParams.of("lenet-5", "fashion-mnist", 2, 60, 1e-3, 3, 3, 0.1, 0.8);
        DistillOutcome outcome = service().distill(List.of(teacher.run().id()), cnn, List.of(4.0), 0.5,
                Fixtures.fashionMnistDir());
        assertEquals(61_706L, outcome.distilled().get(0).params());
        assertTrue(outcome.distilled().get(0).testAccuracy() > 0.6, "a CNN student learns: " + outcome.format());
    }

    @Test
    void aTeacherOfAnotherShapeIsRefusedBeforeAnyTraining() {
        Path penguins = Path.of(System.getProperty("squeeze.fixtures"), "penguins", "penguins.csv");
        TrainOutcome tabular = train(TrainParams.of("mlp-tabular").withDataset(penguins.toString(), "species", null)
                .withEpochs(2), null);
        var e = assertThrows(BadInputException.class, () -> service().distill(List.of(tabular.run().id()), STUDENT,
                List.of(4.0), 0.9, Fixtures.fashionMnistDir()));
        assertTrue(e.getMessage().contains("takes 9 inputs and predicts 3 classes"), e.getMessage());
        try (RunLedger ledger = RunLedger.open(workspace().ledgerLocation())) {
            assertEquals(1, ledger.query(RunQuery.all()).size(), "nothing trained but the teacher");
        }
    }
}
