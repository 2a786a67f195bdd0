package dev.squeeze.compress.prune;

import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.ShuffledBatches;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.Trainer;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.models.zoo.BuildSettings;
import dev.squeeze.models.zoo.ModelZoo;
import dev.squeeze.models.zoo.Network;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MagnitudePruningTest {
    private static TrainingData data;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        data = Fixtures.fashionMnist();
    }

    private static Network net(String model) {
        return Trainer.newNetwork(TrainParams.of(model), data);
    }

    @Test
    void eachLevelPrunesTheRequestedFractionPerLayerAndTheOutputLayerHalfOfIt() {
        Network net = net("lenet-300-100");
        Mask mask = Mask.dense(net);
        assertEquals(List.of("0_W", "1_W", "2_W"), List.copyOf(mask.flags().keySet()), "biases are not pruned");
        for (int level = 1; level <= 4; level++) {
            Mask next = MagnitudePruning.prune(mask, net, 0.2, PruneScope.LAYER);
            for (String key : mask.flags().keySet()) {
                double rate = key.equals("2_W") ? 0.1 : 0.2;
                double expected = mask.remaining(key) * (1 - rate);
                assertTrue(Math.abs(next.remaining(key) - expected) <= 1, key + " level " + level + ": "
                        + next.remaining(key) + " vs " + expected);
            }
            assertTrue(next.isSubsetOf(mask), "a mask only ever shrinks");
            assertFalse(mask.isSubsetOf(next));
            mask = next;
            mask.applyTo(net);
        }
        assertEquals(0.8 * 0.8 * 0.8 * 0.8, mask.fraction("0_W"), 1e-5);
    }

    @Test
    void theSmallestMagnitudesGo() {
        Network net = net("mlp-tiny");
        Mask next = MagnitudePruning.prune(Mask.dense(net), net, 0.5, PruneScope.LAYER);
        float[] w = net.getParam("0_W").dup('c').data().asFloat();
        boolean[] keep = next.flags().get("0_W");
        float largestPruned = 0;
        float smallestKept = Float.MAX_VALUE;
        for (int i = 0; i < w.length; i++) {
            if (keep[i]) smallestKept = Math.min(smallestKept, Math.abs(w[i]));
            else largestPruned = Math.max(largestPruned, Math.abs(w[i]));
        }
        assertTrue(largestPruned <= smallestKept, largestPruned + " > " + smallestKept);
    }

    @Test
    void globalScopeRemovesTheFractionOverAllLayersTogether() {
        Network net = net("lenet-300-100");
        Mask dense = Mask.dense(net);
        Mask next = MagnitudePruning.prune(dense, net, 0.2, PruneScope.GLOBAL);
        assertEquals(Math.round(dense.totalSize() * 0.8), next.totalRemaining(), 1);
        // He init scales with 1/sqrt(fan-in): the wide first layer has the smallest weights and loses the most.
        assertTrue(next.fraction("0_W") < next.fraction("1_W"), next.fractions().toString());
    }

    @Test
    void randomControlKeepsTheSameCountsPerLayerInsideThePreviousMask() {
        Network net = net("lenet-300-100");
        Mask dense = Mask.dense(net);
        Mask ticket = MagnitudePruning.prune(dense, net, 0.2, PruneScope.LAYER);
        Mask random = MagnitudePruning.randomLike(dense, ticket, 7);
        for (String key : ticket.flags().keySet()) assertEquals(ticket.remaining(key), random.remaining(key), key);
        assertFalse(random.equals(ticket));
        Mask ticket2 = MagnitudePruning.prune(ticket, net, 0.2, PruneScope.LAYER);
        Mask random2 = MagnitudePruning.randomLike(random, ticket2, 8);
        assertTrue(random2.isSubsetOf(random));
    }

    @Test
    void convolutionalLayersArePrunedToo() {
        Network net = net("lenet-5");
        Mask mask = MagnitudePruning.prune(Mask.dense(net), net, 0.2, PruneScope.LAYER);
        assertTrue(mask.flags().containsKey("0_W") && mask.flags().containsKey("2_W"), mask.flags().keySet().toString());
        assertEquals(150, mask.size("0_W"), "conv1: 6 filters of 5x5");
        assertEquals(120, mask.remaining("0_W"));
        mask.applyTo(net);
        float[] w = net.getParam("0_W").dup('c').data().asFloat();
        long zeros = 0;
        for (float v : w) if (v == 0f) zeros++;
        assertEquals(30, zeros);
    }

    @Test
    void masksRoundTripThroughTheirFile() {
        Network net = net("lenet-300-100");
        Mask mask = MagnitudePruning.prune(Mask.dense(net), net, 0.37, PruneScope.LAYER);
        mask.save(tmp.resolve("mask.bin"));
        assertEquals(mask, Mask.load(tmp.resolve("mask.bin")));
    }

    private static Network resnetTiny() {
        return ModelZoo.get("resnet-tiny").build(new BuildSettings(3, 3e-3, data.inputShape(), 10));
    }

    @Test
    void aGraphsMaskCoversEveryConvolutionAndDenseWeightAndPrunedWeightsStayZeroThroughTraining() {
        Network net = resnetTiny();
        Mask mask = Mask.dense(net);
        assertEquals(List.of("output_W", "s1_conv1_W", "s1_conv2_W", "s2_conv1_W", "s2_conv2_W", "s2_proj_W",
                "s3_conv1_W", "s3_conv2_W", "s3_proj_W", "stem_W"), mask.flags().keySet().stream().sorted().toList(),
                "batch norms and biases are not pruned");
        assertEquals("stem_W", mask.flags().keySet().iterator().next());
        assertEquals("output_W", List.copyOf(mask.flags().keySet()).get(mask.flags().size() - 1), "the output layer comes last");
        assertEquals(8 * 8 * 3 * 3, mask.size("s3_conv1_W"), "s3_conv1: 8 filters of 8 channels, 3x3");

        Mask pruned = MagnitudePruning.prune(mask, net, 0.5, PruneScope.LAYER);
        assertEquals(Math.round(0.5 * mask.size("s2_proj_W")), pruned.remaining("s2_proj_W"));
        assertEquals(Math.round(0.75 * mask.size("output_W")), pruned.remaining("output_W"), "the output layer at half the rate");
        pruned.applyTo(net);
        float[] gammaBefore = net.getParam("s1_bn1_gamma").toFloatVector();
        Map<String, float[]> before = weights(net, pruned);
        var batches = new ShuffledBatches(data.train(), 60, 1);
        for (int step = 0; step < 5; step++) {
            net.fit(batches.batch(1, step));
            pruned.applyTo(net);
        }
        for (var e : pruned.flags().entrySet()) {
            float[] w = net.getParam(e.getKey()).dup('c').data().asFloat();
            boolean survivorMoved = false;
            for (int i = 0; i < w.length; i++) {
                if (!e.getValue()[i]) assertEquals(0f, w[i], 0f, e.getKey() + "[" + i + "] after training");
                else survivorMoved |= w[i] != before.get(e.getKey())[i];
            }
            assertTrue(survivorMoved, e.getKey() + ": the surviving weights train");
        }
        assertFalse(java.util.Arrays.equals(gammaBefore, net.getParam("s1_bn1_gamma").toFloatVector()),
                "batch norms train and are not masked");
    }

    @Test
    void globalScopeOnAGraphRemovesTheFractionOfAllItsWeightsSmallestFirst() {
        Network net = resnetTiny();
        Mask dense = Mask.dense(net);
        Mask next = MagnitudePruning.prune(dense, net, 0.3, PruneScope.GLOBAL);
        assertEquals(Math.round(dense.totalSize() * 0.7), next.totalRemaining());
        float largestPruned = 0;
        float smallestKept = Float.MAX_VALUE;
        for (var e : next.flags().entrySet()) {
            float[] w = net.getParam(e.getKey()).dup('c').data().asFloat();
            for (int i = 0; i < w.length; i++) {
                if (e.getValue()[i]) smallestKept = Math.min(smallestKept, Math.abs(w[i]));
                else largestPruned = Math.max(largestPruned, Math.abs(w[i]));
            }
        }
        assertTrue(largestPruned <= smallestKept, largestPruned + " > " + smallestKept);
        next.save(tmp.resolve("graph-mask.bin"));
        assertEquals(next, Mask.load(tmp.resolve("graph-mask.bin")));
    }

    private static Map<String, float[]> weights(Network net, Mask mask) {
        Map<String, float[]> out = new java.util.HashMap<>();
        for (String key : mask.flags().keySet()) out.put(key, net.getParam(key).dup('c').data().asFloat());
        return out;
    }
}
