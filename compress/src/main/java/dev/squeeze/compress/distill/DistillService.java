package dev.squeeze.compress.distill;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.train.TrainedRun;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.eval.Evaluation;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.eval.ModelSize;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunResult;
import dev.squeeze.compress.onnx.quantize.OnnxModelFile;
import dev.squeeze.compress.stage.Stage;
import dev.squeeze.compress.stage.StageResult;
import dev.squeeze.compress.stage.StageRun;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.Trainer;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.compress.train.TrainingHooks;
import dev.squeeze.compress.train.Refit;
import dev.squeeze.compress.train.StageEnvironment;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingResult;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.TrainValSplit;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import dev.squeeze.models.zoo.Network;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code squeeze distill}: trains a student on the averaged soft targets of one or more teachers (Hinton et al.
 * 2015) and, beside it, the same student on hard labels alone with the same budget and seed, so the gain is
 * always visible. Teacher logits are computed once per training example and reused every epoch.
 */
public final class DistillService {
    public static final String STAGE = "distill";

    private final StageEnvironment env;

    public DistillService(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {
        this.env = new StageEnvironment(workspace, locator, monitor);
    }

    /**
     * @param teacherRefs  teacher run ids (or prefixes), model files, or ONNX files that take the dataset's raw features
     * @param student      the student's training settings (its model, dataset, epochs, seed, ...)
     * @param temperatures one temperature, or several to try (the best on the validation split is kept)
     */
    public DistillOutcome distill(List<String> teacherRefs, TrainParams student, List<Double> temperatures, double alpha,
                                  Path dataDir) {
        return distill(teacherRefs, student, temperatures, alpha, null, dataDir);
    }

    /** @param studentFrom a model file of the student's architecture to start from, or null for a fresh student */
    public DistillOutcome distill(List<String> teacherRefs, TrainParams student, List<Double> temperatures, double alpha,
                                  Path studentFrom, Path dataDir) {
        TrainingMonitor monitor = env.monitor();
        DatasetLocator locator = env.locator();
        if (teacherRefs.isEmpty()) throw new BadInputException("give at least one --teacher RUN|FILE");
        // Checked before any work: the runs below build these settings only after training the student alone.
        for (double temperature : temperatures) {
            DistillParams.SETTINGS.check(new DistillParams(List.of(), student, temperature, alpha, null));
        }
        RunPaths.requireWritable(env.workspace().runsRoot());
        // An ONNX file (recognised by its content: Squeeze's model files are zips) is a teacher run in ONNX Runtime.
        List<String> onnxRefs = teacherRefs.stream().filter(OnnxModelFile::isOnnxCandidate).toList();
        List<TrainedRun> teachers = resolveTeachers(teacherRefs.stream().filter(r -> !onnxRefs.contains(r)).toList());
        List<ModelFile.Loaded> teacherModels = teachers.stream().map(t -> ModelFile.load(t.paths().model(), false)).toList();
        Dataset dataset = student.openDataset(dataDir, locator, monitor::message);
        checkCompatible(teachers, teacherModels, dataset);
        List<OnnxTeacher> onnxTeachers = onnxRefs.stream().map(r -> OnnxTeacher.read(Path.of(r), dataset)).toList();
        TrainingData data = TrainingData.prepare(dataset, student.validationFraction());
        if (studentFrom != null) checkStudentFile(studentFrom, student, data);
        TrainValSplit raw = TrainingData.carve(dataset, student.validationFraction());

        monitor.message("teacher logits for " + raw.train().size() + " training examples, computed once");
        float[] logits = TeacherLogits.average(teacherModels,
                onnxTeachers.stream().map(t -> t.logits(raw.train(), monitor::message)).toList(), raw.train());
        List<DistillOutcome.Row> teacherRows = new ArrayList<>();
        for (int i = 0; i < teachers.size(); i++) {
            RunRecord r = teachers.get(i).run();
            teacherRows.add(new DistillOutcome.Row("teacher " + r.model(), r.id(), null, r.valAcc(), r.testAcc(),
                    r.params(), r.fileBytes()));
        }
        // An ONNX teacher has no run: its test accuracy is measured here, in ONNX Runtime, on the raw test split.
        // Their test logits are computed once, for their accuracy and the ensemble's.
        List<float[]> onnxTestLogits = onnxTeachers.stream().map(t -> t.logits(dataset.test(), n -> { })).toList();
        List<Double> onnxTest = new ArrayList<>();
        for (int i = 0; i < onnxTeachers.size(); i++) {
            OnnxTeacher t = onnxTeachers.get(i);
            double accuracy = TeacherLogits.accuracy(onnxTestLogits.get(i), dataset.test());
            onnxTest.add(accuracy);
            teacherRows.add(new DistillOutcome.Row("teacher " + t.describe(), null, null, Double.NaN, accuracy,
                    t.params(), t.bytes()));
        }
        int teacherCount = teachers.size() + onnxTeachers.size();
        DistillOutcome.Row ensemble = null;
        double ensembleTest = Double.NaN;
        if (teacherCount > 1) {
            ensembleTest = TeacherLogits.accuracy(TeacherLogits.average(teacherModels, onnxTestLogits, dataset.test()),
                    dataset.test());
            ensemble = new DistillOutcome.Row("ensemble of " + teacherCount, null, null, Double.NaN, ensembleTest, -1, -1);
        }

        // The same student on hard labels alone, same budget and seed: reused when the ledger holds it.
        // Without a refit, as the distilled student trains (its soft targets cover the training split only): like with like.
        TrainOutcome alone = new TrainingService(env).train(student.withRefit(Refit.NEVER), dataDir, false);
        DistillOutcome.Row aloneRow = row("student " + student.model() + " alone", alone.run(), null);

        // A run teacher is named by its settings' hash, an ONNX teacher by its file's content.
        List<String> teacherHashes = new ArrayList<>(teachers.stream().map(t -> t.run().configHash()).toList());
        onnxTeachers.forEach(t -> teacherHashes.add("sha256:" + t.sha256()));
        List<DistillOutcome.Row> distilled = new ArrayList<>();
        DistillOutcome.Row best = null;
        Path bestModel = null;
        for (double temperature : temperatures) {
            DistillParams params = new DistillParams(teacherHashes, student, temperature, alpha,
                    studentFrom == null ? null : studentFrom.toAbsolutePath().normalize().toString());
            Map<String, Object> details = new LinkedHashMap<>();
            List<String> teacherNames = new ArrayList<>(teachers.stream().map(t -> t.run().id()).toList());
            onnxTeachers.forEach(t -> teacherNames.add(t.file().getFileName().toString()));
            details.put("teachers", teacherNames);
            List<Double> teacherTest = new ArrayList<>(teachers.stream().map(t -> t.run().testAcc()).toList());
            teacherTest.addAll(onnxTest);
            details.put("teacher_test_acc", teacherTest);
            if (!onnxTeachers.isEmpty()) {
                details.put("teacher_onnx", onnxTeachers.stream().map(t -> Map.of("file",
                        t.file().toAbsolutePath().normalize().toString(), "sha256", t.sha256())).toList());
            }
            if (teacherCount > 1) details.put("ensemble_test_acc", ensembleTest);
            details.put("temperature", temperature);
            details.put("alpha", alpha);
            details.put("student_alone_run", alone.run().id());
            details.put("student_alone_test_acc", alone.run().testAcc());
            Distill stage = new Distill(data, logits, teachers.isEmpty() ? null : teachers.get(0).run().id(), details);
            StageResult<Student> trained = env.runner().run(stage, params);
            RunRecord run = trained.run();
            DistillOutcome.Row r = row("student " + student.model() + " distilled", run, temperature);
            distilled.add(r);
            if (best == null || r.validationAccuracy() > best.validationAccuracy()) {
                best = r;
                bestModel = trained.paths().model();
            }
        }
        return new DistillOutcome(teacherRows, ensemble, aloneRow, distilled, best, bestModel);
    }

    /** Each reference is a trained run, its model file, or an ensemble run (which stands for its members). */
    private List<TrainedRun> resolveTeachers(List<String> refs) {
        List<TrainedRun> out = new ArrayList<>();
        for (String ref : refs) {
            Optional<RunRecord> ensemble;
            try (RunLedger ledger = env.workspace().openLedger()) {
                ensemble = java.nio.file.Files.isRegularFile(Path.of(ref)) ? Optional.empty()
                        : ledger.get(ref).filter(r -> EnsembleService.STAGE.equals(r.stage()));
            }
            if (ensemble.isPresent()) {
                for (String member : EnsembleService.members(ensemble.get())) {
                    out.add(TrainedRun.resolve(member, env.workspace(), TrainingService.STAGE));
                }
            } else {
                out.add(TrainedRun.resolve(ref, env.workspace(), TrainingService.STAGE));
            }
        }
        return out;
    }

    private static DistillOutcome.Row row(String what, RunRecord r, Double temperature) {
        return new DistillOutcome.Row(what, r.id(), temperature, r.valAcc(), r.testAcc(), r.params(), r.fileBytes());
    }

    /** Teachers and student must see the same inputs and predict the same classes: checked before any training. */
    private static void checkCompatible(List<TrainedRun> teachers, List<ModelFile.Loaded> models, Dataset dataset) {
        long features = Arrays.stream(dataset.inputShape()).reduce(1, (a, b) -> a * b);
        for (int i = 0; i < teachers.size(); i++) {
            ModelInfo info = models.get(i).info();
            long teacherFeatures = Arrays.stream(info.inputShape()).reduce(1, (a, b) -> a * b);
            if (teacherFeatures != features || info.numClasses() != dataset.classNames().size()) {
                throw new BadInputException(String.format(Locale.ROOT, "teacher %s takes %d inputs and predicts %d "
                                + "classes, but the student's dataset %s has %d inputs and %d classes; distil on the "
                                + "dataset the teacher was trained on (%s)", teachers.get(i).run().id(), teacherFeatures,
                        info.numClasses(), dataset.name(), features, dataset.classNames().size(), info.dataset()));
            }
        }
    }

    /** What a distillation run leaves in its outcome file: the student's model file. */
    public record Student(String model) {
    }

    /** The distill stage: one student trained on the teachers' soft targets at one temperature. */
    private final class Distill implements Stage<DistillParams, Student> {
        private final TrainingData data;
        private final float[] logits;
        private final String parent;
        private final Map<String, Object> details;

        Distill(TrainingData data, float[] logits, String parent, Map<String, Object> details) {
            this.data = data;
            this.logits = logits;
            this.parent = parent;
            this.details = details;
        }

        @Override
        public Definition<DistillParams, Student> definition() {
            return new Definition<>(STAGE, DistillParams.DEFAULTS, Student.class,
                    "interrupted; the same command resumes after the last finished epoch");
        }

        @Override
        public NewRun row(DistillParams params, ConfigHash hash) {
            return NewRun.of(STAGE, params.student().model(), data.dataset(), hash).withParent(parent)
                    .withNotes(String.format(Locale.ROOT, "distilled from %s at T=%s, alpha=%s", details.get("teachers"),
                            params.temperature(), params.alpha()));
        }

        @Override
        public String reusedMessage(DistillParams params, RunRecord run) {
            return "T=" + params.temperature() + ": already distilled as run " + run.id();
        }

        @Override
        public Optional<Student> adopt(RunRecord finished, RunPaths paths) {
            return Files.isRegularFile(paths.model()) ? Optional.of(new Student(paths.model().toString()))
                    : Optional.empty();
        }

        @Override
        public RecordedRun.Finished<Student> run(StageRun<DistillParams> run) {
            DistillParams params = run.params();
            RunPaths paths = run.paths();
            TrainParams student = params.student();
            env.monitor().message(String.format(Locale.ROOT, "run %s: distilling into %s at T=%s, alpha=%s",
                    run.row().id(), student.model(), params.temperature(), params.alpha()));
            ModelInfo info = new ModelInfo(student.model(), student.dataset(), student.tableOptions(),
                    data.inputShape(), data.classNames(), data.normalization(), run.hash().value(), run.row().id(), 0,
                    Double.NaN);
            float[] soft = TeacherLogits.softTargets(logits, data.classNames().size(), params.temperature());
            TrainingResult result = new Trainer(env.monitor()).train(student, data, paths, info, new TrainingHooks(
                    () -> studentNetwork(params, data), net -> { }, false, soft));
            // The saved student is a plain classifier: downstream stages know nothing of distillation.
            ModelFile.Loaded best = SoftTargets.asPlainClassifier(paths.model());
            Evaluation test = Evaluator.evaluate(best.network(), data.test(), data.classNames());
            ModelSize size = ModelSize.of(best.network(), paths.model());
            return new RecordedRun.Finished<>(RunResult.of(result.trainAccuracyAtBest(),
                    result.bestValidationAccuracy(), test.accuracy())
                    .withSizes(size.params(), size.nonzeroParams(), size.fileBytes())
                    .withDetails(Json.writeCompact(details)), new Student(paths.model().toString()));
        }
    }

    /** A student file must hold the student's architecture: same parameter layout. */
    private static void checkStudentFile(Path file, TrainParams student, TrainingData data) {
        Network fresh = Trainer.newNetwork(student, data);
        Network given = ModelFile.load(file, false).network();
        if (!Arrays.equals(fresh.params().shape(), given.params().shape()) || fresh.layers().size() != given.layers().size()
                || fresh.isGraph() != given.isGraph()) {
            throw new BadInputException("--student-from " + file + " holds a " + given.kind() + " of " + given.numParams()
                    + " parameters in " + given.layers().size() + " layers, but " + student.model() + " is a "
                    + fresh.kind() + " of " + fresh.numParams() + " in " + fresh.layers().size()
                    + "; give a model file of the student's architecture");
        }
    }

    /** The student with its output layer trained on the distillation loss (softmax kept, so output() stays probabilities). */
    static Network studentNetwork(DistillParams params, TrainingData data) {
        Network net = Trainer.newNetwork(params.student(), data);
        if (params.studentFrom() != null) {
            net.setParams(ModelFile.load(Path.of(params.studentFrom()), false).network().params().dup());
        }
        return SoftTargets.learning(net, params.alpha(), params.temperature());
    }
}
