package dev.squeeze.models.data;

import java.nio.file.Path;
import java.util.List;

/**
 * Opens a dataset by what the user typed after {@code --dataset}: a registered image dataset name
 * ({@link DatasetRegistry}), or the path of a CSV file.
 */
public final class Datasets {
    private Datasets() {
    }

    /** Options that only tables have. */
    public record TableOptions(String label, List<String> categorical) {
        public static final TableOptions NONE = new TableOptions(null, null);
    }

    /** Fails fast, before any data is read, when {@code name} cannot be a dataset. */
    public static void check(String name) {
        DatasetRegistry.get(name);
    }

    /**
     * @param dataDir where an image dataset's files are, or null to locate them
     */
    public static Dataset open(String name, Path dataDir, DatasetLocator locator, TableOptions table) {
        return DatasetLoader.load(name, dataDir, locator);
    }
}
