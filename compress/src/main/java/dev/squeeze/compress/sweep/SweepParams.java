package dev.squeeze.compress.sweep;

import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.core.BadInputException;

import java.util.List;
import java.util.Objects;

/**
 * What {@code squeeze sweep} runs.
 *
 * @param base     the settings every trial starts from; the grid's settings override them. Its model may be
 *                 null when the grid sweeps {@code model}
 * @param grid     the settings to sweep
 * @param random   train this many distinct combinations drawn with the base seed, or null for the whole grid
 * @param parallel most trials training at once
 */
public record SweepParams(TrainParams base, SweepGrid grid, Integer random, int parallel) {

    /** What names a sweep: only what decides its trials (not {@code parallel}, not where data or runs live). */
    private record Identity(TrainParams base, String grid, Integer random) {
    }

    private static final Identity DEFAULT_IDENTITY = new Identity(TrainParams.HASH_BASE, null, null);

    public SweepParams {
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(grid, "grid");
        if (base.model() == null && !grid.sweeps("model")) {
            throw new BadInputException("--model is required unless the grid sweeps model (e.g. --grid "
                    + "'model=mlp-tiny,lenet-300-100;lr=1e-3,3e-3')");
        }
        if (random != null && random < 1) {
            throw new BadInputException("--random must be at least 1 (leave it out to train the whole grid), got " + random);
        }
        if (parallel < 1) throw new BadInputException("--parallel must be at least 1, got " + parallel);
    }

    /** The whole grid, or the random sample of it. */
    public List<SweepTrial> trials() {
        return random == null ? grid.trials(base) : grid.sample(base, random, base.seed());
    }

    /** Whether {@code --random} asked for at least as many trials as the grid has, so the whole grid runs. */
    public boolean randomCoversGrid() {
        return random != null && random >= grid.size();
    }

    /**
     * {@code sw-} and the {@link ConfigHash} of the base settings the trials use, the grid in canonical form and
     * the sample size: the same sweep, however its grid is written, gets the same id, so running it again finds
     * its trials' rows (and reuses their runs) instead of starting a second sweep.
     */
    public String sweepId() {
        Integer sample = randomCoversGrid() ? null : random; // a sample of everything is the whole grid
        return "sw-" + ConfigHash.of(new Identity(grid.unswept(base), grid.canonicalText(), sample), DEFAULT_IDENTITY).value();
    }
}
