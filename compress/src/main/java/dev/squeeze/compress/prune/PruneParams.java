package dev.squeeze.compress.prune;

import dev.squeeze.compress.train.SettingChecks;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.settings.Setting;
import dev.squeeze.core.settings.StageSettings;

/**
 * The settings of a lottery-ticket search; their hash (with the dense run's) names the search's folder.
 *
 * @param source    configuration hash of the dense training run the search starts from (set by the service)
 * @param levels    pruning rounds
 * @param rate      fraction of the surviving weights removed per round (the output layer loses half of it
 *                  in {@link PruneScope#LAYER} scope)
 * @param rewindTo  where survivors are rewound to: {@code 0}, {@code 500it}, {@code 1ep}
 * @param scope     which weights compete for removal: each layer's, or all together
 * @param control   the control run trained beside each level
 * @param structure {@link Structure#NONE} to prune single weights (zeros in a dense file), or whole neurons/channels
 *                  (a physically smaller network). Hashed as before it had a NONE: runs made when unstructured was
 *                  null keep their folders (null and NONE are both the default, left out of the hash)
 * @param teacher   what each level's retraining learns from besides the labels: nothing, or the dense model's soft
 *                  targets ({@link PruneTeacher}); null in configurations written before it, which read as NONE
 */
public record PruneParams(
        String source,
        @Setting(help = "Pruning rounds.", defaultValue = "5", min = 1)
        int levels,
        @Setting(help = "Fraction of the surviving weights removed per round; the output layer loses half of it with "
                + "scope layer.", label = "F", defaultValue = "0.2", min = 0, minExclusive = true, max = 1,
                maxExclusive = true)
        double rate,
        @Setting(name = "rewind-to", help = "Rewind survivors to iteration 0 (the initialisation), an iteration (500it) "
                + "or an epoch (1ep): late rewinding. A run without weights saved there is retrained once with them.",
                label = "POINT", defaultValue = "0", check = SettingChecks.TrainingPoint.class)
        String rewindTo,
        @Setting(help = "Prune each layer by the rate, or all layers with one threshold.", defaultValue = "layer")
        PruneScope scope,
        @Setting(help = "Train a control beside each level: reinit (same mask, fresh init) or random (random mask, "
                + "same sparsity).", defaultValue = "none")
        PruneControl control,
        @Setting(help = "Prune single weights (none: zeros, same file size), or remove whole neurons of dense layers or "
                + "filters of convolutions by their norm (in a graph, channels tied by a residual Add go together), "
                + "writing a physically smaller, faster network.",
                defaultValue = "none")
        Structure structure,
        @Setting(help = "What each level's retraining learns from besides the labels: none, or dense (the dense model's "
                + "soft targets, knowledge distillation at the temperature and alpha 'squeeze distill' defaults to). "
                + "Compare it with none on the test split: on lenet-5 it held validation accuracy deeper down, test "
                + "accuracy less so (docs/shrink.md).", defaultValue = "none")
        PruneTeacher teacher) {

    /** The settings, as options and recipe keys see them. */
    public static final StageSettings<PruneParams> SETTINGS = StageSettings.of(PruneParams.class);

    /** The defaults; fields equal to these are left out of the configuration hash. */
    public static final PruneParams DEFAULTS = SETTINGS.defaults();
    public static final int DEFAULT_LEVELS = DEFAULTS.levels();
    public static final double DEFAULT_RATE = DEFAULTS.rate();

    /**
     * Normalises what older configurations wrote (a null structure was unstructured, a rewind point in another
     * spelling) and refuses the combinations no single setting can: the ranges are checked where values come in and
     * by {@link #SETTINGS}{@code .check} before the search runs.
     */
    public PruneParams {
        if (structure == null) structure = Structure.NONE;
        if (teacher == null) teacher = PruneTeacher.NONE;
        if (rewindTo != null) rewindTo = dev.squeeze.compress.artifacts.RewindPoint.parse(rewindTo).label();
        if (structure.structured() && control != PruneControl.NONE) {
            throw new BadInputException("control applies to unstructured pruning; leave it out when structure is set");
        }
        if (structure.structured() && scope == PruneScope.GLOBAL) {
            throw new BadInputException("scope global applies to unstructured pruning; structured pruning cuts each "
                    + "layer, so leave scope out when structure is set");
        }
    }

    /** Unstructured settings, retrained on the labels only. */
    public PruneParams(String source, int levels, double rate, String rewindTo, PruneScope scope, PruneControl control) {
        this(source, levels, rate, rewindTo, scope, control, Structure.NONE);
    }

    /** Retrained on the labels only. */
    public PruneParams(String source, int levels, double rate, String rewindTo, PruneScope scope, PruneControl control,
                       Structure structure) {
        this(source, levels, rate, rewindTo, scope, control, structure, PruneTeacher.NONE);
    }

    public PruneParams withSource(String source) {
        return SETTINGS.with(this, "source", source);
    }
}
