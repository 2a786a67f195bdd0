package dev.squeeze.compress.stage;

import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunRecord;

import java.util.Optional;

/**
 * One step of the pipeline (train, distill, quantize, export, ...): what it is called, what its settings are, how its
 * ledger row reads, and its own work. Everything around the work (hashing the settings, the run folder, the lock, the
 * ledger row, reuse, the outcome file) is {@link StageRunner}'s, written once for every stage.
 *
 * <p>A stage instance may hold what its service prepared for one call (loaded models, opened data): the runner
 * calls {@link #row} only when the work will run, so a stage can prepare its data there, after the reuse check.
 *
 * @param <P> the settings: a record whose non-default fields name the run folder ({@link ConfigHash})
 * @param <O> what the stage produced, kept as JSON in the run folder's outcome file and returned on reuse
 */
public interface Stage<P extends Record, O> {

    /**
     * What names and identifies a stage.
     *
     * @param name        the ledger's stage name and the run folder's prefix: {@code train}, {@code quantize}, ...
     * @param defaults    what the hash is taken against: a field equal to it stays out of the hash, so adding a
     *                    setting keeps old hashes (and old run folders). Usually the settings' defaults; train hashes
     *                    against {@code TrainParams.HASH_BASE}, the defaults before they changed, so a changed default
     *                    moves the runs it changes to new folders
     * @param outcomeType the outcome's type, to read the outcome file back
     * @param onInterrupt the note an interrupted row gets: say what the same command does next
     */
    record Definition<P extends Record, O>(String name, P defaults, Class<O> outcomeType, String onInterrupt) {
    }

    /** The stage's name, defaults, outcome type and interruption note. */
    Definition<P, O> definition();

    /**
     * The ledger row this run starts: {@code NewRun.of(name, model, dataset, hash)} with a parent and notes as the stage
     * has them. The runner adds the code commit, the run folder, the sweep and any resumed row.
     */
    NewRun row(P params, ConfigHash hash);

    /** The stage's own work, in the locked run folder, as the started row; the row's results and the outcome. */
    RecordedRun.Finished<O> run(StageRun<P> run);

    /** What to tell the user when a finished run is reused, or null to say nothing. */
    default String reusedMessage(P params, RunRecord run) {
        return null;
    }

    /**
     * The outcome of a run finished by a Squeeze that wrote no outcome files: {@code finished} is the newest DONE row
     * of this stage with the run's hash. Empty when that row does not stand for a usable run (its model file is gone,
     * it lacks the details to rebuild the outcome): the runner then runs the stage again. Runs the runner adopts get
     * their outcome file, once.
     */
    default Optional<O> adopt(RunRecord finished, RunPaths paths) {
        return Optional.empty();
    }
}
