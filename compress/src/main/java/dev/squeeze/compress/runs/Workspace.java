package dev.squeeze.compress.runs;

import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.core.BadInputException;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where runs and the ledger live unless the user says otherwise, and who is running them: {@code $SQUEEZE_HOME}
 * (default {@code ./squeeze-runs}) holds one folder per run and the SQLite ledger {@code ledger.db};
 * {@code $SQUEEZE_LEDGER} points the ledger elsewhere (a path or a {@code jdbc:postgresql:} URL);
 * {@code $SQUEEZE_USER} names the experimenter recorded on each run (default: the OS user).
 *
 * @param experimenter who the runs recorded through {@link #openLedger()} are run by
 */
public record Workspace(Path runsRoot, String ledgerLocation, String experimenter) {

    public static final String HOME_ENV = "SQUEEZE_HOME";
    public static final String LEDGER_ENV = "SQUEEZE_LEDGER";
    public static final String USER_ENV = "SQUEEZE_USER";
    public static final String DEFAULT_HOME = "squeeze-runs";

    public Workspace {
        if (experimenter == null || experimenter.isBlank()) experimenter = RunLedger.osUser();
        else experimenter = experimenter.strip();
    }

    /** Runs recorded as run by the OS user. */
    public Workspace(Path runsRoot, String ledgerLocation) {
        this(runsRoot, ledgerLocation, null);
    }

    public static Workspace fromEnvironment(Map<String, String> env) {
        Path home = Path.of(env.getOrDefault(HOME_ENV, DEFAULT_HOME));
        String ledger = env.getOrDefault(LEDGER_ENV, home.resolve("ledger.db").toString());
        return new Workspace(home, ledger, env.get(USER_ENV));
    }

    /** This workspace with the given overrides (null keeps the current value). */
    public Workspace with(Path runsRoot, String ledgerLocation) {
        return new Workspace(runsRoot != null ? runsRoot : this.runsRoot,
                ledgerLocation != null ? ledgerLocation : this.ledgerLocation, experimenter);
    }

    /** This workspace recording runs as run by {@code name} (null keeps the current one). */
    public Workspace withExperimenter(String name) {
        if (name == null) return this;
        if (name.isBlank()) throw new BadInputException("--by needs a name; leave it out to record " + experimenter);
        return new Workspace(runsRoot, ledgerLocation, name);
    }

    /** Opens the ledger to record runs, as run by this workspace's experimenter. */
    public RunLedger openLedger() {
        return RunLedger.open(ledgerLocation, System.getenv(), experimenter);
    }
}
