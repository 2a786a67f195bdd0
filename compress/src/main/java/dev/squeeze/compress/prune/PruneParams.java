package dev.squeeze.compress.prune;

import dev.squeeze.core.BadInputException;

/**
 * The settings of a lottery-ticket search; their hash (with the dense run's) names the search's folder.
 *
 * @param source   configuration hash of the dense training run the search starts from (set by the service)
 * @param levels   pruning rounds
 * @param rate     fraction of the surviving weights removed per round (the output layer loses half of it
 *                 in {@link PruneScope#LAYER} scope)
 * @param rewindTo where survivors are rewound to: {@code 0}, {@code 500it}, {@code 1ep}
 * @param structure null to prune single weights (zeros in a dense file), or whole neurons/channels (a
 *                  physically smaller network)
 */
public record PruneParams(String source, int levels, double rate, String rewindTo, PruneScope scope,
                          PruneControl control, Structure structure) {

    public static final int DEFAULT_LEVELS = 5;
    public static final double DEFAULT_RATE = 0.2;
    public static final PruneParams DEFAULTS = new PruneParams(null, DEFAULT_LEVELS, DEFAULT_RATE, "0", PruneScope.LAYER,
            PruneControl.NONE, null);

    public PruneParams {
        if (levels < 1) throw new BadInputException("--levels must be at least 1, got " + levels);
        if (!(rate > 0 && rate < 1)) throw new BadInputException("--rate must lie strictly between 0 and 1, got " + rate);
        rewindTo = dev.squeeze.compress.artifacts.RewindPoint.parse(rewindTo).label();
        if (structure != null && control != PruneControl.NONE) {
            throw new BadInputException("--control applies to unstructured pruning; leave it out with --structure");
        }
        if (structure != null && scope == PruneScope.GLOBAL) {
            throw new BadInputException("--scope global applies to unstructured pruning; structured pruning cuts each layer");
        }
    }

    public PruneParams(String source, int levels, double rate, String rewindTo, PruneScope scope, PruneControl control) {
        this(source, levels, rate, rewindTo, scope, control, null);
    }

    public PruneParams withSource(String source) {
        return new PruneParams(source, levels, rate, rewindTo, scope, control, structure);
    }
}
