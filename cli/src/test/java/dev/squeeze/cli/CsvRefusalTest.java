package dev.squeeze.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CSV tables the reader refuses, as the user meets them: one line naming the column (and row) and what to do,
 * nothing left in SQUEEZE_HOME, and {@code --drop} reaching the reader from train and doctor.
 */
class CsvRefusalTest {
    @TempDir
    Path home;
    @TempDir
    Path data;

    /** 60 rows: a unique user id, two measurements, a label that depends on them. */
    private Path table(String name, String yAtRow20) throws IOException {
        StringBuilder csv = new StringBuilder("user,x,y,label\n");
        for (int i = 0; i < 60; i++) {
            String y = i == 18 && yAtRow20 != null ? yAtRow20 : String.valueOf((i * 7) % 11);
            csv.append("user-").append(1000 + i).append(',').append(i % 9).append(',').append(y).append(',')
                    .append(i % 9 < 4 ? "low" : "high").append('\n');
        }
        return Files.writeString(data.resolve(name), csv);
    }

    @Test
    void anIdColumnIsRefusedNamingDropAndWithDropTheTableTrains() throws IOException {
        String csv = table("users.csv", null).toString();
        CliRun refused = CliRun.run(home, "train", "--model", "mlp-tabular", "--dataset", csv, "--epochs", "1");
        assertEquals(ExitCodes.BAD_INPUT, refused.exitCode(), refused.err());
        assertEquals(1, refused.errorLines(), refused.err());
        assertTrue(refused.err().contains("column 'user' has 60 distinct values in 60 rows")
                && refused.err().contains("--drop user"), refused.err());
        assertNothingLeftIn(home);

        CliRun trained = CliRun.run(home, "train", "--model", "mlp-tabular", "--dataset", csv, "--epochs", "1",
                "--drop", "user");
        assertEquals(ExitCodes.OK, trained.exitCode(), trained.err());
        assertTrue(trained.out().contains("accuracy"), trained.out());
    }

    @Test
    void infinityInAColumnOfNumbersIsRefusedByTrainAndDoctorNamingRowAndColumn() throws IOException {
        String csv = table("measures.csv", "Infinity").toString();
        for (String command : List.of("train", "doctor")) {
            CliRun run = CliRun.run(home, command, "--model", "mlp-tabular", "--dataset", csv, "--drop", "user");
            assertEquals(ExitCodes.BAD_INPUT, run.exitCode(), command + ": " + run.err());
            assertEquals(1, run.errorLines(), run.err());
            assertTrue(run.err().contains("row 20, column 'y': 'Infinity' is not a finite number"), run.err());
            assertNothingLeftIn(home);
        }
    }

    /** No run folder, and no lock file: a refused command leaves SQUEEZE_HOME as it found it (but for the ledger). */
    private static void assertNothingLeftIn(Path home) throws IOException {
        try (Stream<Path> files = Files.walk(home)) {
            List<String> left = files.filter(Files::isRegularFile).map(f -> home.relativize(f).toString())
                    .filter(f -> !f.startsWith("ledger.db")).toList();
            assertEquals(List.of(), left, "files left by a refused command");
        }
    }
}
