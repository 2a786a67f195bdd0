package dev.squeeze.compress.distill;

import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetLocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DistillParamsTest {
    @TempDir
    Path home;

    /** Distillation run folders are named by these hashes: pinned as they were before the settings were annotated. */
    @Test
    void hashesArePinned() {
        var student = TrainParams.of("mlp-100");
        ConfigHash plain = ConfigHash.of(new DistillParams(List.of("b2", "a1"), student, 4, 0.9, null), DistillParams.DEFAULTS);
        assertEquals("{\"student\":{\"exampleDecay\":0.8,\"lrDecay\":0.95,\"model\":\"mlp-100\",\"refit\":\"AUTO\","
                + "\"tolerance\":2},\"teachers\":[\"a1\",\"b2\"]}", plain.hashedJson());
        assertEquals("22eb7cef9d34", plain.value());
        ConfigHash tuned = ConfigHash.of(new DistillParams(List.of("a1"), student, 2, 0.5, "/tmp/student.zip"),
                DistillParams.DEFAULTS);
        assertEquals("6d01185301db", tuned.value(), tuned.hashedJson());
    }

    @Test
    void defaultsComeFromTheSettings() {
        assertEquals(4, DistillParams.DEFAULT_TEMPERATURE);
        assertEquals(0.9, DistillParams.DEFAULT_ALPHA);
        assertEquals(List.of("temperature", "alpha"),
                DistillParams.SETTINGS.settings().stream().map(s -> s.name()).toList());
    }

    /** The service checks the settings before any work (resolving teachers, training the student alone). */
    @Test
    void theServiceRefusesABadSettingByItsNameBeforeAnyWork() {
        var service = new DistillService(new Workspace(home, home.resolve("ledger.db").toString()),
                new DatasetLocator(null, null, null), TrainingMonitor.SILENT);
        var alpha = assertThrows(BadInputException.class, () -> service.distill(List.of("no-such-run"),
                TrainParams.of("mlp-tiny"), List.of(4.0), 1.5, null));
        assertEquals("alpha must be a number from 0 to 1, got 1.5", alpha.getMessage());
        var temperature = assertThrows(BadInputException.class, () -> service.distill(List.of("no-such-run"),
                TrainParams.of("mlp-tiny"), List.of(2.0, 0.0), 0.5, null));
        assertEquals("temperature must be a number > 0, got 0", temperature.getMessage());
        assertFalse(Files.exists(home.resolve("ledger.db")), "no ledger opened");
    }
}
