package dev.squeeze.compress.doctor;

import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.Trainer;
import dev.squeeze.compress.train.TrainingData;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The talk's ReLU-with-Xavier bug in a graph, whose convolutions are linear and get their ReLU after a batch norm. */
class GraphInitCheckTest {
    @Test
    void reluAfterTheBatchNormWithXavierIsAWarningNamingTheVertices() {
        TrainingData data = Fixtures.fashionMnist();
        CheckResult xavier = InitCheck.run(Trainer.newNetwork(TrainParams.of("resnet-tiny").withInit("xavier"), data));
        assertEquals(Verdict.WARN, xavier.verdict(), xavier.evidence());
        assertTrue(xavier.evidence().contains("stem (relu, xavier)") && xavier.evidence().contains("s3_conv2 (relu, xavier)"),
                xavier.evidence());
        assertEquals(Verdict.PASS, InitCheck.run(Trainer.newNetwork(TrainParams.of("resnet-tiny"), data)).verdict());
    }
}
