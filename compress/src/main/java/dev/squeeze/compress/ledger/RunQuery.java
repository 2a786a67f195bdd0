package dev.squeeze.compress.ledger;

import dev.squeeze.core.BadInputException;

/**
 * Which runs to list and in what order. Null filters match everything. Start from {@link #all()}.
 *
 * @param model      only runs of this model
 * @param dataset    only runs on this dataset
 * @param stage      only runs of this stage
 * @param status     only runs with this status
 * @param sweepId    only runs of this sweep
 * @param runBy      only runs by this experimenter
 * @param sortBy     a column of {@link RunRecord#COLUMNS}; runs with no value in it come last either way
 * @param descending largest (or newest) first
 * @param limit      at most this many runs; 0 for all
 */
public record RunQuery(String model, String dataset, String stage, RunStatus status, String sweepId,
                       String runBy, String sortBy, boolean descending, int limit) {

    public RunQuery {
        // The sort column is spliced into SQL, so only known column names may pass.
        if (!RunRecord.COLUMNS.contains(sortBy)) {
            throw new BadInputException("cannot sort runs by '" + sortBy + "'; valid columns: "
                    + String.join(", ", RunRecord.COLUMNS));
        }
        if (limit < 0) throw new BadInputException("a run limit cannot be negative, got " + limit);
    }

    /** Every run, newest first. */
    public static RunQuery all() {
        return new RunQuery(null, null, null, null, null, null, "started_at", true, 0);
    }

    public RunQuery withModel(String value) {
        return new RunQuery(value, dataset, stage, status, sweepId, runBy, sortBy, descending, limit);
    }

    public RunQuery withDataset(String value) {
        return new RunQuery(model, value, stage, status, sweepId, runBy, sortBy, descending, limit);
    }

    public RunQuery withStage(String value) {
        return new RunQuery(model, dataset, value, status, sweepId, runBy, sortBy, descending, limit);
    }

    public RunQuery withStatus(RunStatus value) {
        return new RunQuery(model, dataset, stage, value, sweepId, runBy, sortBy, descending, limit);
    }

    public RunQuery withSweepId(String value) {
        return new RunQuery(model, dataset, stage, status, value, runBy, sortBy, descending, limit);
    }

    public RunQuery withRunBy(String value) {
        return new RunQuery(model, dataset, stage, status, sweepId, value, sortBy, descending, limit);
    }

    public RunQuery sortedBy(String column, boolean descendingOrder) {
        return new RunQuery(model, dataset, stage, status, sweepId, runBy, column, descendingOrder, limit);
    }

    public RunQuery withLimit(int value) {
        return new RunQuery(model, dataset, stage, status, sweepId, runBy, sortBy, descending, value);
    }
}
