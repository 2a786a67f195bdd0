package dev.squeeze.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Which dataset and where its files are. */
final class DataOptions {
    @Option(names = "--data", paramLabel = "DIR",
            description = "Folder holding the dataset's IDX files (and where a relative .csv file or image folder not found "
                    + "in the current directory is looked for). Otherwise: $SQUEEZE_DATA, then /usr/share/datasets/<name> "
                    + "(Debian's dataset-fashion-mnist), then a verified download into the cache.")
    Path dataDir;
}
