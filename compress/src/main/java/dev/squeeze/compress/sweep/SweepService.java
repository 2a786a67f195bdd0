package dev.squeeze.compress.sweep;

import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.compress.train.EpochMetrics;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.zoo.ModelZoo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * {@code squeeze sweep} as a service: runs every trial of a sweep through {@link TrainingService} (so an identical
 * finished trial is reused, an interrupted one resumes, and the run lock guards each run folder), up to
 * {@link SweepParams#parallel()} at a time, then builds the {@link SensitivityTable}.
 *
 * <p>Each trial has its own training service and so its own ledger connection; the ledger is safe across
 * threads and processes. Every trial's row carries the sweep id. A trial that fails (a diverged loss, or
 * anything else) is recorded failed by the training service and reported; the others go on.
 *
 * <p>Progress goes to the given consumer, one whole line at a time (never interleaved): a line per finished
 * epoch of each trial, prefixed by the trial, and a line per finished trial.
 */
public final class SweepService {
    private final Workspace workspace;
    private final DatasetLocator locator;
    private final Consumer<String> progress;
    private final Object progressLock = new Object();

    /** @param progress receives progress lines; called from several threads, one call at a time */
    public SweepService(Workspace workspace, DatasetLocator locator, Consumer<String> progress) {
        this.workspace = workspace;
        this.locator = locator;
        this.progress = progress;
    }

    /**
     * Runs the sweep.
     *
     * @param dataDir where the dataset's files are, or null to locate them
     * @throws dev.squeeze.core.BadInputException when something every trial needs is wrong (an unknown model
     *                                              or dataset, missing data, an unwritable output or ledger):
     *                                              before any trial starts
     */
    public SweepOutcome run(SweepParams params, Path dataDir) {
        List<SweepTrial> trials = params.trials();
        String sweepId = params.sweepId();
        preflight(params.base(), trials, dataDir);

        List<String> notes = new ArrayList<>();
        if (params.randomCoversGrid()) {
            notes.add(String.format(Locale.ROOT, "--random %d is not less than the grid's %d combinations: the whole "
                    + "grid ran", params.random(), params.grid().size()));
        }
        int threads = Math.min(params.parallel(), trials.size());
        say("sweep " + sweepId + ": " + trials.size() + " trials of " + params.grid() + ", " + threads + " at a time");
        notes.forEach(this::say);

        AtomicInteger threadNumber = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, task -> {
            Thread thread = new Thread(task, "sweep-trial-" + threadNumber.incrementAndGet());
            thread.setDaemon(true); // a failed sweep must not keep the JVM alive for trials nobody waits on
            return thread;
        });
        try {
            List<Future<TrialOutcome>> futures = new ArrayList<>();
            for (SweepTrial trial : trials) futures.add(pool.submit(() -> runTrial(trial, sweepId, dataDir)));
            List<TrialOutcome> outcomes = new ArrayList<>();
            for (Future<TrialOutcome> future : futures) outcomes.add(await(future));
            return new SweepOutcome(sweepId, outcomes, SensitivityTable.of(params.grid().values(), outcomes), notes);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Checks, once and before any trial, what every trial needs: so a typo is one bad-input error instead of N
     * failed trials, and parallel trials never race to download the dataset.
     */
    private void preflight(TrainParams base, List<SweepTrial> trials, Path dataDir) {
        trials.stream().map(t -> t.params().model()).distinct().forEach(ModelZoo::get);
        Datasets.check(base.dataset(), dataDir);
        RunPaths.requireWritable(workspace.runsRoot());
        base.openDataset(dataDir, locator, System.err::println);
        workspace.openLedger().close();
    }

    private TrialOutcome runTrial(SweepTrial trial, String sweepId, Path dataDir) {
        TrialOutcome outcome;
        try {
            // The preflight already said where the data is (and fetched it): N more such lines would be noise.
            DatasetLocator quiet = locator.withProgress(line -> { });
            TrainOutcome trained = new TrainingService(workspace, quiet, epochLines(trial)).withSweep(sweepId)
                    .train(trial.params(), dataDir, false);
            outcome = TrialOutcome.done(trial, trained.run().id(), trained.run().valAcc(), trained.reused());
        } catch (Exception e) {
            // Errors (out of memory) are not caught: they end the sweep, as they would end a train command.
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().replace('\n', ' ');
            outcome = TrialOutcome.failed(trial, failedRunId(trial, sweepId), message);
        }
        say(outcome.line());
        return outcome;
    }

    /** A per-trial monitor that reports finished epochs only: step progress of parallel trials would be noise. */
    private TrainingMonitor epochLines(SweepTrial trial) {
        return new TrainingMonitor() {
            @Override
            public void epochFinished(EpochMetrics m) {
                say(String.format(Locale.ROOT, "%s epoch %d: train loss %.4f, val acc %.2f%%%s", trial.name(),
                        m.epoch(), m.trainLoss(), 100 * m.validationAccuracy(), m.best() ? " *" : ""));
            }
        };
    }

    /** The row the training service marked failed for {@code trial}, if it got that far. */
    private String failedRunId(SweepTrial trial, String sweepId) {
        String hash = ConfigHash.of(trial.params(), TrainParams.HASH_BASE).value();
        try (RunLedger ledger = workspace.openLedger()) {
            return ledger.latestByHash(hash)
                    .filter(r -> TrainingService.STAGE.equals(r.stage()) && sweepId.equals(r.sweepId())
                            && r.status() == RunStatus.FAILED)
                    .map(RunRecord::id).orElse(null);
        } catch (RuntimeException e) {
            return null; // the failure itself is what gets reported
        }
    }

    private static TrialOutcome await(Future<TrialOutcome> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("sweep interrupted");
        } catch (ExecutionException e) {
            // runTrial catches every Exception, so only an Error gets here.
            if (e.getCause() instanceof Error error) throw error;
            throw new IllegalStateException("sweep trial failed unexpectedly", e.getCause());
        }
    }

    private void say(String line) {
        synchronized (progressLock) {
            progress.accept(line);
        }
    }
}
