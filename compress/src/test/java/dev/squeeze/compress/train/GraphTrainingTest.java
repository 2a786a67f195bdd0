package dev.squeeze.compress.train;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelImport;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.distill.DistillOutcome;
import dev.squeeze.compress.distill.DistillService;
import dev.squeeze.compress.doctor.CheckResult;
import dev.squeeze.compress.doctor.Doctor;
import dev.squeeze.compress.doctor.DoctorReport;
import dev.squeeze.compress.doctor.Verdict;
import dev.squeeze.compress.eval.Evaluation;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.saved.EvaluationService;
import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.zoo.Network;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A residual ComputationGraph (zoo resnet-tiny) through training, evaluation, doctor, distillation and import. */
class GraphTrainingTest {
    /** One workspace for the class: the graph trained once serves every test. */
    @TempDir
    static Path home;
    private static TrainOutcome trained;

    @BeforeAll
    static void trainOnce() {
        trained = train(resnet(2, 5));
    }

    private static Workspace workspace() {
        return new Workspace(home, home.resolve("ledger.db").toString());
    }

    private static final DatasetLocator LOCATOR = new DatasetLocator(null, null, null);

    private static TrainParams resnet(int epochs, long seed) {
        return TrainParams.of("resnet-tiny", "fashion-mnist", epochs, 60, 3e-3, seed, 3, 0.1, 0.8);
    }

    private static TrainOutcome train(TrainParams params) {
        return new TrainingService(workspace(), LOCATOR, TrainingMonitor.SILENT).train(params, Fixtures.fashionMnistDir(), false);
    }

    @Test
    void trainsAResidualGraphAndSavesItAsAGraph() {
        Network saved = ModelFile.load(trained.paths().model(), false).network();
        assertInstanceOf(Network.Graph.class, saved);
        double test = trained.run().testAcc();
        assertTrue(test > 0.4, "resnet-tiny learns the fixture in 2 epochs well above chance (10%): " + test);
        Evaluation again = new EvaluationService(LOCATOR).evaluateTestSet(trained.paths().model(), null,
                Fixtures.fashionMnistDir());
        assertEquals(test, again.accuracy(), 1e-9, "eval of the saved graph gives the accuracy training recorded");
    }

    @Test
    void theSameSeedGivesTheSameGraphWeightsBatchNormStatisticsIncluded(@TempDir Path dir) {
        TrainingData data = Fixtures.fashionMnist();
        ModelInfo info = new ModelInfo("resnet-tiny", "fashion-mnist", null, data.inputShape(), data.classNames(),
                data.normalization(), "test", "test", 0, Double.NaN);
        TrainingResult a = new Trainer(TrainingMonitor.SILENT).train(resnet(1, 9), data, new RunPaths(dir.resolve("a")), info);
        TrainingResult b = new Trainer(TrainingMonitor.SILENT).train(resnet(1, 9), data, new RunPaths(dir.resolve("b")), info);
        assertArrayEquals(ModelFile.load(a.model(), false).network().params().toFloatVector(),
                ModelFile.load(b.model(), false).network().params().toFloatVector());
    }

    @Test
    void doctorExaminesAGraphAndJudgesAConvByTheReluAfterItsBatchNorm() {
        DoctorReport report = new Doctor(workspace(), LOCATOR, line -> { }).examine(TrainParams.of("resnet-tiny"),
                Fixtures.fashionMnistDir());
        CheckResult init = report.checks().stream().filter(c -> c.check().equals("activation/init pairs")).findFirst()
                .orElseThrow();
        assertEquals(Verdict.PASS, init.verdict(), init.evidence());
        assertTrue(init.evidence().contains("stem (relu, he)") && init.evidence().contains("s1_conv1 (relu, he)"),
                init.evidence());
        for (CheckResult c : report.checks()) assertTrue(c.verdict() != Verdict.FAIL, c.check() + ": " + c.evidence());
    }

    @Test
    void distilsAGraphTeacherIntoAStackAndAStackTeacherIntoAGraph() {
        TrainOutcome graphTeacher = trained;
        TrainOutcome stackTeacher = train(TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 1, 3, 0.1, 0.8));
        DistillService distill = new DistillService(workspace(), LOCATOR, TrainingMonitor.SILENT);

        DistillOutcome intoStack = distill.distill(List.of(graphTeacher.run().id()),
                TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 3, 3, 0.1, 0.8), List.of(4.0), 0.7,
                Fixtures.fashionMnistDir());
        assertTrue(intoStack.distilled().get(0).testAccuracy() > 0.3, intoStack.format());

        DistillOutcome intoGraph = distill.distill(List.of(stackTeacher.run().id()), resnet(2, 3), List.of(4.0), 0.7,
                Fixtures.fashionMnistDir());
        Network student = ModelFile.load(intoGraph.model(), false).network();
        assertInstanceOf(Network.Graph.class, student);
        assertInstanceOf(LossMCXENT.class, student.outputLayer().getLossFn(), "the saved student is a plain classifier");
        assertTrue(intoGraph.distilled().get(0).testAccuracy() > 0.25, intoGraph.format());
    }

    @Test
    void importsAPlainDl4jComputationGraphZip() throws Exception {
        Network graph = ModelFile.load(trained.paths().model(), false).network();
        Path plain = home.resolve("users-graph.zip");
        ModelSerializer.writeModel(graph.model(), plain.toFile(), false);   // what a DL4J user has: no squeeze metadata
        Path imported = home.resolve("imported.zip");
        ModelImport.importDl4j(plain, DatasetLoader.load("fashion-mnist", Fixtures.fashionMnistDir()), imported);
        Network back = ModelFile.load(imported, false).network();
        assertInstanceOf(Network.Graph.class, back);
        assertArrayEquals(graph.params().toFloatVector(), back.params().toFloatVector());
    }
}
