package dev.squeeze.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DoctorCommandTest {
    @TempDir
    Path home;

    @Test
    void aHealthySetUpPrintsOneLinePerCheckAndExitsZero() {
        CliRun run = CliRun.run(home, "doctor", "--model", "mlp-tiny", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, run.exitCode(), run.out() + run.err());
        for (String check : new String[]{"overfit one batch", "initial loss", "activation/init pairs",
                "feature/label alignment", "normalization leakage", "labels", "learning rate"}) {
            assertTrue(run.out().lines().anyMatch(l -> l.matches("(pass|warn) +" + check + " .*")), check + " in\n" + run.out());
        }
        assertTrue(run.err().contains("checking: overfit one batch"), "progress on stderr: " + run.err());
    }

    @Test
    void aFailingCheckExitsOneAndSaysWhatToDo() throws IOException {
        CliRun run = CliRun.run(home, "doctor", "--model", "mlp-tiny", "--lr", "5", "--json", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.FAILURE, run.exitCode(), run.out() + run.err());
        JsonNode report = new ObjectMapper().readTree(run.out());
        assertTrue(report.get("failed").asBoolean());
        boolean lrFailed = false;
        for (JsonNode check : report.get("checks")) {
            if (check.get("check").asText().equals("learning rate")) {
                lrFailed = check.get("verdict").asText().equals("FAIL") && check.get("fix").asText().startsWith("use lr ") && check.get("fix").asText().contains("(--lr or train.lr)");
            }
        }
        assertTrue(lrFailed, run.out());
    }

    @Test
    void anUnknownModelIsBadInput() {
        CliRun run = CliRun.run(home, "doctor", "--model", "nope", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.BAD_INPUT, run.exitCode());
        assertEquals(1, run.err().lines().count(), run.err());
    }
}
