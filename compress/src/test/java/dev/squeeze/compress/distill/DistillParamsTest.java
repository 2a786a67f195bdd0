package dev.squeeze.compress.distill;

import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.train.TrainParams;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DistillParamsTest {
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
}
