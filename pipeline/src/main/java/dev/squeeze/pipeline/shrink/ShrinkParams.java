package dev.squeeze.pipeline.shrink;

import dev.squeeze.compress.prune.PruneScope;
import dev.squeeze.compress.prune.PruneTeacher;
import dev.squeeze.compress.quant.ConvActivations;
import dev.squeeze.compress.train.SettingChecks;
import dev.squeeze.core.settings.Setting;
import dev.squeeze.core.settings.StageSettings;

import java.util.List;

/**
 * What {@code squeeze shrink} searches and how it chooses; the hash of these (with the training run's) names the
 * search's folder, and the same hash without the budget and the target names its id ({@link #searchId()}), the
 * sweep id its runs carry.
 *
 * @param source   configuration hash of the training run the search starts from (set by the service)
 * @param budget   most validation accuracy, in points, a chosen model may lose against the dense float model, both
 *                 measured in ONNX Runtime
 * @param target   what to minimise within the budget
 * @param kinds    which kinds of candidate to try ({@link ShrinkService#KINDS}), always in the service's order,
 *                 cheapest training first
 * @param levels   most pruning levels of each kind; a kind stops going deeper once a level's models are all over
 *                 budget
 * @param rate     fraction of the surviving weights (unstructured) or neurons/channels (structured) removed per level;
 *                 0.3 since 2026-12-08 (with 12 levels, about as deep as 6 at 0.5): on the demo's lenet-300-100 it
 *                 found a 54x smaller model within the budget where 0.5 found 39x. Both are hashed against the old
 *                 defaults (0.5, 6), so searches made before keep their ids
 * @param rewindTo where the pruning levels rewind their survivors to ({@link dev.squeeze.compress.prune.PruneParams#rewindTo})
 * @param scope    which weights the unstructured levels compare ({@link dev.squeeze.compress.prune.PruneParams#scope});
 *                 the structured levels are per layer
 * @param teacher  what every pruning level's retraining learns from besides the labels ({@link
 *                 dev.squeeze.compress.prune.PruneParams#teacher})
 * @param convActivations what every quantized candidate's convolutions compute in ({@link
 *                 dev.squeeze.compress.quant.QuantParams#convActivations}): the int8 variants' quantize setting
 * @param students zoo models to distil into; null for every zoo model smaller than the trained one that fits its data
 * @param variants the names of the {@link Variant}s each model is measured as (set by the service): a variant added
 *                 later makes a new search, whose candidates measured before are found again by their own runs
 * @param exportWriter the version of the ONNX files the candidates are written as ({@link
 *                 dev.squeeze.compress.onnx.ExportParams#withCurrentWriter}, set by the service): a search finished
 *                 with an older writer is searched again, its trainings found again by their own runs, its files
 *                 written anew
 * @param weightScales the version of the int8 weight scales the candidates are quantized with ({@link
 *                 dev.squeeze.compress.quant.QuantParams#withCurrentWeightScales}, set by the service): likewise
 */
public record ShrinkParams(
        String source,
        @Setting(help = "Most validation accuracy, in points, the chosen model may lose against the dense float model "
                + "(both measured in ONNX Runtime on the validation split the training held out).", label = "POINTS",
                defaultValue = "0.5", min = 0, minExclusive = true, max = 100)
        double budget,
        @Setting(help = "What to make smallest within the budget: size (the raw ONNX file) or latency (p50 of one image "
                + "in ONNX Runtime, in process).", defaultValue = "size")
        ShrinkTarget target,
        @Setting(name = "try", help = "Kinds of candidate to try, run cheapest training first whatever the order given: "
                + "quantize (the trained model at int8 and at 4-bit weights, no training), prune (unstructured levels, "
                + "each retrained, then quantized), structured (neurons or channels removed, each level retrained), distill (smaller zoo "
                + "students trained on the model's soft labels, and alone).", label = "KIND,KIND",
                defaultValue = "quantize,prune,structured,distill",
                choices = {"quantize", "prune", "structured", "distill"})
        List<String> kinds,
        @Setting(help = "Most pruning levels of each kind; deeper levels stop once a level's models are all over the "
                + "budget.", defaultValue = "12", hashedAs = "6", min = 1)
        int levels,
        @Setting(help = "Fraction of the surviving weights (unstructured) or neurons and channels (structured) removed "
                + "per level: smaller steps make better tickets at the same sparsity and more of them to choose from, "
                + "for more retrainings.", label = "F", defaultValue = "0.3", hashedAs = "0.5", min = 0,
                minExclusive = true, max = 1, maxExclusive = true)
        double rate,
        @Setting(name = "rewind-to", help = "Where each pruning level rewinds the surviving weights before retraining: "
                + "0 (the initialisation) or an early point of the training, 500it or 1ep (late rewinding, for deeper "
                + "networks). A training run without weights saved there is trained once more with them.",
                label = "POINT", defaultValue = "0", check = SettingChecks.TrainingPoint.class)
        String rewindTo,
        @Setting(help = "Which weights each unstructured pruning level compares: layer (each layer loses the rate, the "
                + "output layer half of it) or global (one magnitude threshold over every layer, so layers with larger "
                + "weights keep more). Structured levels are per layer.", defaultValue = "layer")
        PruneScope scope,
        @Setting(help = "What every pruning level's retraining learns from besides the labels: none, or dense (the "
                + "trained model's soft targets, as 'squeeze distill' teaches a student). The choice is made on "
                + "validation accuracy, and on lenet-5 dense held validation accuracy deeper down, test accuracy less "
                + "so: check the chosen model's test accuracy (docs/shrink.md).", defaultValue = "none")
        PruneTeacher teacher,
        @Setting(name = "conv-activations", help = "What the quantized candidates' convolutions compute in: int8, or "
                + "float with their weights int8 (the same file size; ONNX Runtime's float convolution is the faster on "
                + "few channels, as lenet-5's: see 'squeeze quantize --conv-activations').", label = "int8|float",
                defaultValue = "int8")
        ConvActivations convActivations,
        @Setting(help = "Zoo models to distil into (default: every zoo model smaller than the trained one that fits its "
                + "data), tried smallest first.", label = "MODEL,MODEL", check = SettingChecks.ZooModel.class)
        List<String> students,
        List<String> variants,
        Integer exportWriter,
        Integer weightScales) {

    /** The settings, as options and recipe keys see them. */
    public static final StageSettings<ShrinkParams> SETTINGS = StageSettings.of(ShrinkParams.class);

    /** What hashes are taken against: every setting at its default, no source, no variants, no export writer. */
    public static final ShrinkParams DEFAULTS = SETTINGS.hashBase();

    /** Sorts the kinds into the order they run in, once each, so the order written changes nothing. */
    public ShrinkParams {
        if (kinds != null) kinds = ShrinkService.KINDS.stream().filter(kinds::contains).toList();
        if (students != null) students = students.stream().distinct().sorted().toList();
    }

    public ShrinkParams withSource(String source, List<String> variants, Integer exportWriter, Integer weightScales) {
        ShrinkParams p = SETTINGS.with(SETTINGS.with(this, "source", source), "variants", variants);
        return SETTINGS.with(SETTINGS.with(p, "exportWriter", exportWriter), "weightScales", weightScales);
    }

    /**
     * {@code sh-} and the hash of what decides the candidates, not of the budget or target: the same search with
     * another budget is the same search (a larger budget goes deeper where a smaller one stopped), so its runs keep
     * one id, which 'squeeze runs --sweep' lists.
     */
    public String searchId() {
        ShrinkParams identity = SETTINGS.with(SETTINGS.with(this, "budget", DEFAULTS.budget()), "target", DEFAULTS.target());
        return "sh-" + dev.squeeze.compress.ledger.ConfigHash.of(identity, DEFAULTS).value();
    }
}
