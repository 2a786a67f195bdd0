package dev.squeeze.pipeline.shrink;

import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunQuery;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.train.Refit;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.serve.bench.BenchmarkOptions;
import dev.squeeze.serve.report.ParetoReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real search on the Fashion-MNIST fixture: a small model trained for one epoch, int8, two unstructured pruning
 * levels and one distilled student, every candidate exported and measured in ONNX Runtime, with a real SQLite ledger.
 */
class ShrinkServiceTest {
    @TempDir
    Path tmp;

    /** One epoch, no refit: the validation split stays held out, as on the full dataset. */
    private static final TrainParams DENSE = TrainParams.of("mlp-100", "fashion-mnist", 1, 60, 1e-3, 5, 3, 0.1, 0.8)
            .withRefit(Refit.NEVER);
    /** Short timing windows: the test checks what is measured and chosen, not how fast anything is. */
    private static final BenchmarkOptions QUICK = BenchmarkOptions.DEFAULTS.with("window-ms", 1L).with("warmup-ms", 0L)
            .with("max-windows", 3).with("min-runs-per-window", 1).with("stability", 1000.0).with("callers", List.of(1));

    private static Path data() {
        return Path.of(System.getProperty("squeeze.fixtures"), "fashion-mnist");
    }

    private static Workspace workspace(Path home) {
        return new Workspace(home, home.resolve("ledger.db").toString());
    }

    private static ShrinkService service(Path home, List<String> progress) {
        return new ShrinkService(workspace(home), new DatasetLocator(null, null, null), new TrainingMonitor() {
            @Override
            public void message(String line) {
                progress.add(line);
            }
        });
    }

    /**
     * {@code settings} with {@code key} at {@code value}, after checking that this is another search than at the
     * setting's default, which is left out of the id (so searches made before the setting keep theirs).
     */
    private static ShrinkParams aSearchOfItsOwn(Map<String, Object> settings, String key, Object defaultValue,
                                                Object value) {
        Map<String, Object> changed = new java.util.HashMap<>(settings);
        changed.put(key, value);
        ShrinkParams out = ShrinkParams.SETTINGS.build(changed);
        assertEquals(id(params(0.5)), id(ShrinkParams.SETTINGS.with(params(0.5), key, defaultValue)),
                key + "'s default is left out of the id");
        assertNotEquals(id(ShrinkParams.SETTINGS.build(settings)), id(out));
        return out;
    }

    private static String id(ShrinkParams p) {
        return p.withSource("abc123", List.of("float"), 7, 2).searchId();
    }

    private static ShrinkParams params(double budget) {
        return ShrinkParams.SETTINGS.build(Map.of("budget", budget, "try", List.of("quantize", "prune", "distill"),
                "levels", 2, "rate", 0.5, "students", List.of("mlp-tiny")));
    }

    @Test
    void aSearchMeasuresEveryCandidateChoosesWithinTheBudgetAndResumes() throws Exception {
        Path home = tmp.resolve("home");
        TrainOutcome dense = new TrainingService(workspace(home), new DatasetLocator(null, null, null),
                TrainingMonitor.SILENT).train(DENSE, data(), false);
        List<String> progress = new ArrayList<>();
        Path output = tmp.resolve("out").resolve("shrunk.onnx");
        Files.createDirectories(output.getParent());

        // A budget everyone meets: the choice must be the smallest file.
        ShrinkOutcome all = service(home, progress).shrink(params(100), dense.run().id(), output, QUICK, data());
        // int8, int4, int8/15, int8/31, int8/15t and int8/31t of the trained model; each of the 2 levels as float (its
        // pruned weights sparse) and the same six (packed); mlp-tiny distilled and alone, the same seven.
        assertEquals(34, all.candidates().size(), all.format());
        List<String> kinds = new ArrayList<>(java.util.Collections.nCopies(6, "quantize"));
        kinds.addAll(java.util.Collections.nCopies(14, "prune"));
        kinds.addAll(java.util.Collections.nCopies(14, "distill"));
        assertEquals(kinds, all.candidates().stream().map(Candidate::kind).toList(), "cheapest training first");
        assertEquals(List.of("int8", "int4", "int8/15", "int8/31", "int8/15t", "int8/31t", "float", "int8", "int4",
                "int8/15", "int8/31", "int8/15t", "int8/31t"),
                all.candidates().subList(0, 13).stream().map(Candidate::variant).toList());
        Candidate prunedFloat = all.candidates().get(13);   // level 2, 25% of the weights, as float
        Candidate prunedInt8 = all.candidates().get(14);
        Candidate prunedShared = all.candidates().get(16);
        Candidate prunedSharedTensor = all.candidates().get(18);
        assertEquals("int8/15", prunedShared.variant());
        assertTrue(prunedShared.fileBytes() < prunedInt8.fileBytes(), "15 shared values pack in 4-bit codes: "
                + prunedShared.describe() + " vs " + prunedInt8.describe());
        assertEquals("int8/15t", prunedSharedTensor.variant());
        assertTrue(prunedSharedTensor.fileBytes() < prunedShared.fileBytes(), "the same 4-bit codes and gaps, without "
                + "per-channel scales: " + prunedSharedTensor.describe() + " vs " + prunedShared.describe());
        assertEquals(prunedInt8.params(), prunedShared.params(), "a packed weight counts as the weight it unpacks to");
        assertEquals(prunedInt8.nonzeroParams(), prunedShared.nonzeroParams(), "sharing values makes no weight zero");
        assertEquals("float", prunedFloat.variant());
        assertTrue(prunedFloat.fileBytes() < all.dense().fileBytes() * 0.8,
                "the level's float file stores its pruned weights sparse: " + prunedFloat.describe());
        assertEquals(34, progress.stream().filter(l -> l.startsWith("candidate ")).count(), "one line per candidate");
        for (Candidate c : all.candidates()) {
            assertTrue(c.withinBudget());
            assertTrue(c.fileBytes() > 0 && c.latencyP50Micros() > 0, c.describe());
            assertTrue(c.valAcc() > 0.1 && c.valAcc() <= 1 && c.testAcc() > 0.1, c.describe() + " learnt something");
            assertEquals(Files.size(Path.of(c.file())), c.fileBytes(), "the raw exported file's size");
        }
        Candidate chosen = all.chosenCandidate();
        assertNotNull(chosen);
        assertEquals(all.candidates().stream().mapToLong(Candidate::fileBytes).min().orElseThrow(), chosen.fileBytes());
        assertTrue(chosen.fileBytes() < all.dense().fileBytes() / 3, "int8 of a smaller student is smaller still");
        assertFalse(ParetoReport.frontier(all.points(), ParetoReport.FILE_KB).isEmpty());
        assertTrue(all.format().contains("<- chosen"), all.format());
        assertTrue(all.notes().contains("prune reached its last level (--levels 2) with models still within the budget: "
                + "more levels may find a smaller one"), all.notes().toString());

        // Written out, benchmarked, reported.
        assertArrayEquals(Files.readAllBytes(Path.of(chosen.file())), Files.readAllBytes(output));
        assertArrayEquals(Files.readAllBytes(output), Files.readAllBytes(Path.of(all.delivery().file())));
        assertEquals(chosen.fileBytes(), all.delivery().chosen().fileBytes());
        assertEquals(all.dense().fileBytes(), all.delivery().dense().fileBytes());
        assertTrue(Files.isRegularFile(Path.of(all.report()).resolve("index.html")));

        // Every candidate is a ledger row of the search, a child of the export it measured.
        try (RunLedger ledger = RunLedger.open(workspace(home).ledgerLocation())) {
            List<RunRecord> rows = ledger.query(RunQuery.all().withSweepId(all.searchId()));
            List<RunRecord> measured = rows.stream().filter(r -> r.stage().equals(ShrinkService.CANDIDATE_STAGE)).toList();
            assertEquals(35, measured.size(), "34 candidates and the dense model");
            for (Candidate c : all.candidates()) {
                RunRecord row = ledger.get(c.measureRun()).orElseThrow();
                assertEquals(c.exportRun(), row.parentId());
                assertEquals(c.valAcc(), row.valAcc(), 1e-12);
            }
            RunRecord search = rows.stream().filter(r -> r.stage().equals(ShrinkService.STAGE)).findFirst().orElseThrow();
            assertEquals(dense.run().id(), search.parentId());
            assertTrue(rows.stream().anyMatch(r -> r.stage().equals("prune")), "the levels joined the search");
            assertTrue(rows.stream().anyMatch(r -> r.stage().equals("distill")));
        }

        // Another budget: the same search, so every candidate is found again and nothing is trained or measured anew.
        progress.clear();
        ShrinkOutcome again = service(home, progress).shrink(params(50), dense.run().id(), null, QUICK, data());
        assertEquals(all.searchId(), again.searchId(), "the budget is not part of the search's id");
        assertEquals(all.candidates().stream().map(Candidate::measureRun).toList(),
                again.candidates().stream().map(Candidate::measureRun).toList());
        assertEquals(List.of(), progress.stream().filter(l -> l.startsWith("  ") && l.contains(" level ")
                || l.contains("distilling into")).toList(), "no level or student trained again");
        Candidate within = again.chosenCandidate();
        if (within != null) assertTrue(within.valAcc() >= again.dense().valAcc() - 0.5, "never over budget");
        try (RunLedger ledger = RunLedger.open(workspace(home).ledgerLocation())) {
            assertEquals(35, ledger.query(RunQuery.all().withStage(ShrinkService.CANDIDATE_STAGE)).size(),
                    "every measurement found again");
        }
    }

    @Test
    void aBudgetNobodyMeetsChoosesNothingAndStopsPruningDeeper() {
        Path home = tmp.resolve("none");
        TrainOutcome dense = new TrainingService(workspace(home), new DatasetLocator(null, null, null),
                TrainingMonitor.SILENT).train(DENSE, data(), false);
        // 1% of the weights left after one level: a level far below the dense model, on the fixture as anywhere.
        ShrinkParams params = ShrinkParams.SETTINGS.build(Map.of("budget", 0.01, "try", List.of("prune"), "levels", 3,
                "rate", 0.99));
        ShrinkOutcome none = service(home, new ArrayList<>()).shrink(params, dense.run().id(), null, QUICK, data());
        assertEquals(7, none.candidates().size(), "level 1 only, as float, int8, int4, int8/15, int8/31, int8/15t and "
                + "int8/31t: " + none.format());
        for (Candidate c : none.candidates()) {
            assertTrue(c.valAcc() < none.dense().valAcc() - 0.0001, none.format());
            assertFalse(c.withinBudget());
        }
        assertNull(none.chosenCandidate());
        assertNull(none.delivery(), "nothing written out");
        assertTrue(none.format().contains("chosen  none: no candidate is within 0.01 points"), none.format());
        assertTrue(none.notes().stream().anyMatch(n -> n.startsWith("prune stopped after level 1 of 3")),
                none.notes().toString());
        assertTrue(none.notes().stream().noneMatch(n -> n.contains("reached its last level")), none.notes().toString());
    }

    /**
     * {@code --rewind-to 20it}: the pruning levels rewind to that iteration of the training, which is trained once more
     * to save its weights there; a search of its own, while rewinding to 0 keeps the id searches had before the option.
     */
    @Test
    void aLateRewindPrunesFromThatPointInASearchOfItsOwn() {
        Path home = tmp.resolve("late");
        TrainOutcome dense = new TrainingService(workspace(home), new DatasetLocator(null, null, null),
                TrainingMonitor.SILENT).train(DENSE, data(), false);
        Map<String, Object> settings = Map.of("budget", 0.01, "try", List.of("prune"), "levels", 1, "rate", 0.9);
        ShrinkParams init = ShrinkParams.SETTINGS.build(settings);
        Map<String, Object> late = new java.util.HashMap<>(settings);
        late.put("rewind-to", "20it");
        ShrinkParams rewound = ShrinkParams.SETTINGS.build(late);
        late.put("rewind-to", "0");
        assertEquals(init.withSource("abc123", List.of("float"), 7, 2).searchId(),
                ShrinkParams.SETTINGS.build(late).withSource("abc123", List.of("float"), 7, 2).searchId(),
                "rewinding to 0 is the default, left out of the id as before the option");
        assertNotEquals(init.withSource("abc123", List.of("float"), 7, 2).searchId(),
                rewound.withSource("abc123", List.of("float"), 7, 2).searchId());

        List<String> progress = new ArrayList<>();
        ShrinkOutcome outcome = service(home, progress).shrink(rewound, dense.run().id(), null, QUICK, data());
        assertTrue(progress.stream().anyMatch(l -> l.startsWith("prune: up to 1 levels at rate 0.9, rewind to 20it")),
                progress.toString());
        assertEquals(7, outcome.candidates().size(), outcome.format());
        try (RunLedger ledger = RunLedger.open(workspace(home).ledgerLocation())) {
            List<RunRecord> levels = ledger.query(RunQuery.all().withSweepId(outcome.searchId())).stream()
                    .filter(r -> r.stage().equals("prune")).toList();
            assertEquals(1, levels.size(), levels.toString());
            assertTrue(levels.get(0).details().contains("\"rewind_to\":\"20it\""), levels.get(0).details());
            assertEquals(2, ledger.query(RunQuery.all().withStage(TrainingService.STAGE)).size(),
                    "the dense run, and the same training again with its weights saved at iteration 20");
        }
    }

    /**
     * {@code --scope global}: the unstructured levels prune with one threshold over every layer, in a search of its own;
     * the default, per layer, keeps the id searches had before the option.
     */
    @Test
    void aGlobalScopePrunesWithOneThresholdInASearchOfItsOwn() throws Exception {
        Path home = tmp.resolve("global");
        ShrinkParams global = aSearchOfItsOwn(Map.of("budget", 0.01, "try", List.of("prune"), "levels", 1, "rate", 0.9),
                "scope", dev.squeeze.compress.prune.PruneScope.LAYER, dev.squeeze.compress.prune.PruneScope.GLOBAL);

        List<String> progress = new ArrayList<>();
        ShrinkOutcome outcome = searchFromADenseRun(home, global, progress);
        assertTrue(progress.stream().anyMatch(l -> l.startsWith("prune: up to 1 levels at rate 0.9, rewind to 0, one "
                + "threshold over every layer")), progress.toString());
        List<RunRecord> levels = pruneLevels(home, outcome);
        assertEquals(1, levels.size(), levels.toString());
        // Per layer, the hidden layer would keep 10% and the output layer 55%; one threshold keeps other shares.
        Map<?, ?> remaining = (Map<?, ?>) dev.squeeze.compress.artifacts.Json.read(levels.get(0).details(), Map.class)
                .get("remaining");
        assertEquals(0.1, ((Number) remaining.get("total")).doubleValue(), 0.01, remaining.toString());
        assertTrue(remaining.values().stream().mapToDouble(v -> ((Number) v).doubleValue())
                .noneMatch(v -> Math.abs(v - 0.55) < 0.01), remaining.toString());
    }

    /** A dense run trained in {@code home}, and a search from it whose progress lines go to {@code progress}. */
    private static ShrinkOutcome searchFromADenseRun(Path home, ShrinkParams params, List<String> progress) {
        TrainOutcome dense = new TrainingService(workspace(home), new DatasetLocator(null, null, null),
                TrainingMonitor.SILENT).train(DENSE, data(), false);
        return service(home, progress).shrink(params, dense.run().id(), null, QUICK, data());
    }

    /** The search's unstructured pruning levels, as the ledger holds them. */
    private static List<RunRecord> pruneLevels(Path home, ShrinkOutcome outcome) {
        try (RunLedger ledger = RunLedger.open(workspace(home).ledgerLocation())) {
            return ledger.query(RunQuery.all().withSweepId(outcome.searchId())).stream()
                    .filter(r -> r.stage().equals("prune")).toList();
        }
    }

    /**
     * {@code --teacher dense}: every pruning level learns from the trained model's soft targets (its run says so), in a
     * search of its own whose outcome notes it, while the default keeps the id searches had before the option.
     */
    @Test
    void aDenseTeacherTrainsEveryPruningLevelOnTheTrainedModelsSoftTargetsInASearchOfItsOwn() {
        Path home = tmp.resolve("teacher");
        ShrinkParams taught = aSearchOfItsOwn(Map.of("budget", 50.0, "try", List.of("prune"), "levels", 1, "rate", 0.5),
                "teacher", dev.squeeze.compress.prune.PruneTeacher.NONE, dev.squeeze.compress.prune.PruneTeacher.DENSE);

        List<String> progress = new ArrayList<>();
        ShrinkOutcome outcome = searchFromADenseRun(home, taught, progress);
        assertTrue(progress.stream().anyMatch(l -> l.startsWith("prune: up to 1 levels at rate 0.5, rewind to 0, "
                + "learning from the trained model's soft targets")), progress.toString());
        assertTrue(outcome.notes().stream().anyMatch(n -> n.contains("--teacher dense")), outcome.notes().toString());
        assertTrue(outcome.format().contains("learned from the trained model's soft targets"), outcome.format());
        List<RunRecord> levels = pruneLevels(home, outcome);
        assertEquals(1, levels.size(), levels.toString());
        assertTrue(levels.get(0).notes().contains("learns from the dense model's soft targets"), levels.get(0).notes());
        assertTrue(outcome.candidates().stream().anyMatch(c -> c.source().startsWith("pruned")), outcome.format());
    }

    /**
     * {@code --conv-activations float} on a CNN: every quantized candidate is quantized with float convolutions (its
     * run says so), in a search of its own, while the default keeps the id searches had before the option.
     */
    @Test
    void floatConvolutionActivationsQuantizeEveryCandidateSoInASearchOfItsOwn() {
        Path home = tmp.resolve("cnn");
        TrainOutcome cnn = new TrainingService(workspace(home), new DatasetLocator(null, null, null),
                TrainingMonitor.SILENT).train(TrainParams.of("lenet-5", "fashion-mnist", 1, 60, 1e-3, 5, 1, 0.1, 0.8)
                .withRefit(Refit.NEVER), data(), false);
        ShrinkParams floatConv = aSearchOfItsOwn(Map.of("budget", 50.0, "try", List.of("quantize")), "conv-activations",
                dev.squeeze.compress.quant.ConvActivations.INT8, dev.squeeze.compress.quant.ConvActivations.FLOAT);

        List<String> progress = new ArrayList<>();
        ShrinkOutcome outcome = service(home, progress).shrink(floatConv, cnn.run().id(), null, QUICK, data());
        assertTrue(outcome.notes().stream().anyMatch(n -> n.contains("convolutions in float over int8 weights")),
                outcome.notes().toString());
        assertTrue(progress.stream().anyMatch(l -> l.contains("convolutions in float over int8 weights")),
                progress.toString());
        assertEquals(6, outcome.candidates().size(), outcome.format());
        try (RunLedger ledger = RunLedger.open(workspace(home).ledgerLocation())) {
            for (Candidate c : outcome.candidates()) {
                String notes = ledger.get(c.modelRun()).orElseThrow().notes();
                assertTrue(notes.contains("float convolutions"), c.variant() + ": " + notes);
            }
        }
        assertNotNull(outcome.chosenCandidate(), outcome.format());
    }

    /**
     * Files written by another export writer, or models quantized with other weight scales, make another search: a
     * finished one is not shown with stale files.
     */
    @Test
    void aNewExportWriterOrQuantizerIsANewSearch() {
        List<String> variants = Variant.ALL.stream().map(Variant::name).toList();
        int current = dev.squeeze.compress.onnx.ExportParams.DEFAULTS.withCurrentWriter().writer();
        int scales = dev.squeeze.compress.quant.QuantParams.DEFAULTS.withCurrentWeightScales().weightScales();
        ShrinkParams now = params(0.5).withSource("abc123", variants, current, scales);
        assertNotEquals(params(0.5).withSource("abc123", variants, current - 1, scales).searchId(), now.searchId());
        assertNotEquals(params(0.5).withSource("abc123", variants, current, null).searchId(), now.searchId());
        assertEquals(now.searchId(), params(2).withSource("abc123", variants, current, scales).searchId(),
                "the budget still is not part of it");
        // The defaults became rate 0.3 and 12 levels; a search asked for the old ones (0.5, 6, then the defaults) is
        // hashed as it was, and one at the new defaults is another search.
        ShrinkParams built = ShrinkParams.SETTINGS.build(Map.of());
        assertEquals(0.3, built.rate());
        assertEquals(12, built.levels());
        ShrinkParams old = ShrinkParams.SETTINGS.build(Map.of("rate", 0.5, "levels", 6));
        assertEquals(ShrinkParams.DEFAULTS.withSource("abc123", variants, current, scales).searchId(),
                old.withSource("abc123", variants, current, scales).searchId());
        assertNotEquals(built.withSource("abc123", variants, current, scales).searchId(),
                old.withSource("abc123", variants, current, scales).searchId());
    }

    @Test
    void refusesWhatIsNotATrainingRun() {
        Path home = tmp.resolve("bad");
        List<String> progress = new ArrayList<>();
        BadInputException unknown = assertThrows(BadInputException.class,
                () -> service(home, progress).shrink(params(0.5), "nosuchrun", null, QUICK, data()));
        assertTrue(unknown.getMessage().contains("no run or model file 'nosuchrun'"), unknown.getMessage());
        BadInputException budget = assertThrows(BadInputException.class,
                () -> service(home, progress).shrink(params(0), "nosuchrun", null, QUICK, data()));
        assertTrue(budget.getMessage().contains("budget"), budget.getMessage());
    }
}
