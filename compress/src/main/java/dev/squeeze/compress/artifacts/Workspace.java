package dev.squeeze.compress.artifacts;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where runs and the ledger live unless the user says otherwise: {@code $SQUEEZE_HOME} (default
 * {@code ./squeeze-runs}) holds one folder per run and the SQLite ledger {@code ledger.db};
 * {@code $SQUEEZE_LEDGER} points the ledger elsewhere (a path or a {@code jdbc:postgresql:} URL).
 */
public record Workspace(Path runsRoot, String ledgerLocation) {

    public static final String HOME_ENV = "SQUEEZE_HOME";
    public static final String LEDGER_ENV = "SQUEEZE_LEDGER";
    public static final String DEFAULT_HOME = "squeeze-runs";

    public static Workspace fromEnvironment(Map<String, String> env) {
        Path home = Path.of(env.getOrDefault(HOME_ENV, DEFAULT_HOME));
        String ledger = env.getOrDefault(LEDGER_ENV, home.resolve("ledger.db").toString());
        return new Workspace(home, ledger);
    }

    /** This workspace with the given overrides (null keeps the current value). */
    public Workspace with(Path runsRoot, String ledgerLocation) {
        return new Workspace(runsRoot != null ? runsRoot : this.runsRoot,
                ledgerLocation != null ? ledgerLocation : this.ledgerLocation);
    }
}
