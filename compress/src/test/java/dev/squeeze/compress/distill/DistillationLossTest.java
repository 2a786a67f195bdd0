package dev.squeeze.compress.distill;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

import java.io.File;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DistillationLossTest {
    private static final ActivationSoftmax SOFTMAX = new ActivationSoftmax();
    private static final double[][] ALPHA_T = {{0, 1}, {1, 1}, {0.5, 1}, {0, 20}, {1, 20}, {0.7, 20}, {0.3, 3}, {0.9, 0.5}};

    private DataType savedDefault;
    private DataType savedFloating;

    @BeforeEach
    void saveTypes() {
        savedDefault = Nd4j.dataType();
        savedFloating = Nd4j.defaultFloatingPointType();
    }

    @AfterEach
    void restoreTypes() {
        Nd4j.setDefaultDataTypes(savedDefault, savedFloating);
    }

    // ---------------------------------------------------------------- helpers (plain Java doubles)

    private static double[][] randomLogits(Random r, int n, int k, double scale) {
        double[][] z = new double[n][k];
        for (double[] row : z) for (int j = 0; j < k; j++) row[j] = scale * r.nextGaussian();
        return z;
    }

    private static double[][] randomDistributions(Random r, int n, int k) {
        double[][] p = new double[n][k];
        for (double[] row : p) {
            double s = 0;
            for (int j = 0; j < k; j++) s += row[j] = 0.05 + r.nextDouble();
            for (int j = 0; j < k; j++) row[j] /= s;
        }
        return p;
    }

    private static double[][] randomOneHot(Random r, int n, int k) {
        double[][] y = new double[n][k];
        for (double[] row : y) row[r.nextInt(k)] = 1;
        return y;
    }

    private static double[] softmax(double[] z, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) max = Math.max(max, v / t);
        double[] q = new double[z.length];
        double s = 0;
        for (int j = 0; j < z.length; j++) s += q[j] = Math.exp(z[j] / t - max);
        for (int j = 0; j < z.length; j++) q[j] /= s;
        return q;
    }

    private static double[][] softmaxRows(double[][] z, double t) {
        double[][] out = new double[z.length][];
        for (int i = 0; i < z.length; i++) out[i] = softmax(z[i], t);
        return out;
    }

    private static double[][] concat(double[][] a, double[][] b) {
        double[][] out = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = new double[a[i].length + b[i].length];
            System.arraycopy(a[i], 0, out[i], 0, a[i].length);
            System.arraycopy(b[i], 0, out[i], a[i].length, b[i].length);
        }
        return out;
    }

    private static double relError(double a, double b) {
        double denom = Math.max(Math.abs(a), Math.abs(b));
        return denom < 1e-10 ? 0 : Math.abs(a - b) / denom;
    }

    // ---------------------------------------------------------------- loss-level checks

    @Test
    void analyticGradientMatchesFiniteDifferences() {
        Random r = new Random(42);
        int n = 5, k = 4;
        for (double[] at : ALPHA_T) {
            double alpha = at[0], t = at[1];
            DistillationLoss loss = new DistillationLoss(alpha, t);
            double[][] z = randomLogits(r, n, k, 2.0);
            INDArray labels = Nd4j.create(concat(randomDistributions(r, n, k), randomOneHot(r, n, k)));
            INDArray zArr = Nd4j.create(z);
            assertEquals(DataType.DOUBLE, zArr.dataType());
            INDArray grad = loss.computeGradient(labels, zArr, SOFTMAX, null);
            double h = 1e-6;
            double maxRel = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < k; j++) {
                    INDArray plus = zArr.dup();
                    plus.putScalar(i, j, z[i][j] + h);
                    INDArray minus = zArr.dup();
                    minus.putScalar(i, j, z[i][j] - h);
                    double numeric = (loss.computeScore(labels, plus, SOFTMAX, null, false)
                            - loss.computeScore(labels, minus, SOFTMAX, null, false)) / (2 * h);
                    maxRel = Math.max(maxRel, relError(grad.getDouble(i, j), numeric));
                }
            }
            assertTrue(maxRel < 1e-5, "alpha=" + alpha + " T=" + t + ": max relative error " + maxRel);
            // computeGradientAndScore agrees with the separate calls
            var pair = loss.computeGradientAndScore(labels, zArr, SOFTMAX, null, true);
            assertEquals(loss.computeScore(labels, zArr, SOFTMAX, null, true), pair.getFirst(), 1e-12);
            assertEquals(grad, pair.getSecond());
        }
    }

    @Test
    void alphaZeroIsDl4jMcxent() {
        Random r = new Random(7);
        int n = 6, k = 5;
        double[][] y = randomOneHot(r, n, k);
        INDArray z = Nd4j.create(randomLogits(r, n, k, 1.5));
        INDArray labels = Nd4j.create(concat(randomDistributions(r, n, k), y));
        LossMCXENT mcxent = new LossMCXENT();
        for (double t : new double[]{1, 4, 20}) {
            DistillationLoss loss = new DistillationLoss(0, t);
            assertEquals(mcxent.computeScore(Nd4j.create(y), z, SOFTMAX, null, true),
                    loss.computeScore(labels, z, SOFTMAX, null, true), 1e-9);
            assertEquals(mcxent.computeScore(Nd4j.create(y), z, SOFTMAX, null, false),
                    loss.computeScore(labels, z, SOFTMAX, null, false), 1e-9);
            INDArray expectedArr = mcxent.computeScoreArray(Nd4j.create(y), z, SOFTMAX, null);
            INDArray arr = loss.computeScoreArray(labels, z, SOFTMAX, null);
            assertEquals(n, arr.size(0));
            assertEquals(1, arr.size(1));
            for (int i = 0; i < n; i++) assertEquals(expectedArr.getDouble(i), arr.getDouble(i, 0), 1e-9);
            INDArray expectedGrad = mcxent.computeGradient(Nd4j.create(y), z, SOFTMAX, null);
            assertTrue(expectedGrad.equalsWithEps(loss.computeGradient(labels, z, SOFTMAX, null), 1e-12));
        }
    }

    @Test
    void alphaOneTemperatureOneIsKl() {
        Random r = new Random(11);
        int n = 4, k = 3;
        double[][] z = randomLogits(r, n, k, 2);
        double[][] p = randomDistributions(r, n, k);
        p[0] = new double[]{0, 0.25, 0.75};   // 0 * log 0 = 0
        double[][] q = softmaxRows(z, 1);
        double sum = 0;
        double[] perExample = new double[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                if (p[i][j] > 0) perExample[i] += p[i][j] * (Math.log(p[i][j]) - Math.log(q[i][j]));
            }
            sum += perExample[i];
        }
        DistillationLoss loss = new DistillationLoss(1, 1);
        INDArray labels = Nd4j.create(concat(p, randomOneHot(r, n, k)));
        INDArray zArr = Nd4j.create(z);
        assertEquals(sum, loss.computeScore(labels, zArr, SOFTMAX, null, false), 1e-12);
        assertEquals(sum / n, loss.computeScore(labels, zArr, SOFTMAX, null, true), 1e-12);
        INDArray arr = loss.computeScoreArray(labels, zArr, SOFTMAX, null);
        for (int i = 0; i < n; i++) assertEquals(perExample[i], arr.getDouble(i, 0), 1e-12);
        assertTrue(Double.isFinite(arr.getDouble(0, 0)));
    }

    @Test
    void softGradientIsTTimesDifferenceAndComparableAcrossTemperatures() {
        Random r = new Random(3);
        int n = 8, k = 10;
        double[][] z = randomLogits(r, n, k, 3);
        double[][] teacherLogits = randomLogits(r, n, k, 3);
        INDArray zArr = Nd4j.create(z);
        double[] norms = new double[3];
        double[] temps = {10, 20, 40};
        for (int ti = 0; ti < temps.length; ti++) {
            double t = temps[ti];
            double[][] pT = softmaxRows(teacherLogits, t);
            double[][] qT = softmaxRows(z, t);
            INDArray labels = Nd4j.create(concat(pT, randomOneHot(r, n, k)));
            INDArray grad = new DistillationLoss(1, t).computeGradient(labels, zArr, SOFTMAX, null);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < k; j++) {
                    assertEquals(t * (qT[i][j] - pT[i][j]), grad.getDouble(i, j), 1e-12);
                }
            }
            // with alpha in between, the soft part is scaled by alpha and the hard part by 1 - alpha
            double alpha = 0.8;
            INDArray mixed = new DistillationLoss(alpha, t).computeGradient(labels, zArr, SOFTMAX, null);
            INDArray hard = new DistillationLoss(0, t).computeGradient(labels, zArr, SOFTMAX, null);
            assertTrue(grad.mul(alpha).addi(hard.mul(1 - alpha)).equalsWithEps(mixed, 1e-12));
            norms[ti] = grad.norm2Number().doubleValue();
        }
        // T^2 keeps the soft gradient on one scale: at high T, T*(q_T - p_T) ~ (z - v)/K, independent of T.
        // Without the T^2 factor the norms would fall as 1/T (a factor of 4 from T=10 to T=40).
        for (double norm : norms) {
            assertTrue(norms[2] / norm > 0.8 && norms[2] / norm < 1.25,
                    "soft gradient norms across T=10,20,40 should be comparable: " + java.util.Arrays.toString(norms));
        }
    }

    @Test
    void perExampleMaskZeroesRows() {
        Random r = new Random(5);
        int n = 4, k = 3;
        INDArray z = Nd4j.create(randomLogits(r, n, k, 1));
        INDArray labels = Nd4j.create(concat(randomDistributions(r, n, k), randomOneHot(r, n, k)));
        INDArray mask = Nd4j.create(new double[][]{{1}, {0}, {1}, {0}});
        DistillationLoss loss = new DistillationLoss(0.5, 2);
        INDArray full = loss.computeScoreArray(labels, z, SOFTMAX, null);
        INDArray masked = loss.computeScoreArray(labels, z, SOFTMAX, mask);
        assertEquals(full.getDouble(0, 0), masked.getDouble(0, 0), 1e-12);
        assertEquals(0, masked.getDouble(1, 0));
        assertEquals((full.getDouble(0, 0) + full.getDouble(2, 0)) / n,
                loss.computeScore(labels, z, SOFTMAX, mask, true), 1e-12);
        INDArray grad = loss.computeGradient(labels, z, SOFTMAX, mask);
        assertEquals(0, grad.getRow(3).norm2Number().doubleValue());
        assertNotEquals(0, grad.getRow(2).norm2Number().doubleValue());
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(-0.1, 2));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(1.1, 2));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(0.5, 0));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(0.5, Double.NaN));
        DistillationLoss loss = new DistillationLoss(0.5, 2);
        INDArray z = Nd4j.rand(DataType.DOUBLE, 3, 4);
        // labels of width K (not 2K): a clear error, not a silent misread
        var e = assertThrows(IllegalArgumentException.class,
                () -> loss.computeScore(Nd4j.rand(DataType.DOUBLE, 3, 4), z, SOFTMAX, null, true));
        assertTrue(e.getMessage().contains("[batch, 2K]"), e.getMessage());
        assertEquals(new DistillationLoss(), new DistillationLoss(DistillationLoss.DEFAULT_ALPHA,
                DistillationLoss.DEFAULT_TEMPERATURE));
        assertEquals(new DistillationLoss(0.3, 5).hashCode(), new DistillationLoss(0.3, 5).hashCode());
        assertNotEquals(new DistillationLoss(0.3, 5), new DistillationLoss(0.3, 6));
        assertEquals("DistillationLoss(alpha=0.3, temperature=5.0)", new DistillationLoss(0.3, 5).name());
    }

    @Test
    void stableForExtremeLogits() {
        INDArray z = Nd4j.create(new double[][]{{1000, -1000, 0}, {-800, 800, 1}});
        INDArray labels = Nd4j.create(new double[][]{{1, 0, 0, 1, 0, 0}, {0.5, 0.5, 0, 1, 0, 0}});
        DistillationLoss loss = new DistillationLoss(0.5, 2);
        double score = loss.computeScore(labels, z, SOFTMAX, null, true);
        assertTrue(Double.isFinite(score), "score " + score);
        INDArray grad = loss.computeGradient(labels, z, SOFTMAX, null);
        for (double g : grad.data().asDouble()) assertTrue(Double.isFinite(g), "gradient " + grad);
        // row 0: a confident student that agrees with both targets has (nearly) zero gradient
        assertEquals(0, grad.getRow(0).norm2Number().doubleValue(), 1e-9);
    }

    // ---------------------------------------------------------------- network-level checks

    private static MultiLayerNetwork tinyNet(DistillationLoss loss, DataType type, Object updater, long seed) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(type)
                .updater(updater instanceof Adam a ? a : new NoOp())
                .list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(6).activation(Activation.TANH).weightInit(WeightInit.XAVIER).build())
                .layer(new OutputLayer.Builder().lossFunction(loss).nIn(6).nOut(3)
                        .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    @Test
    void fullNetworkGradientCheck() {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        Random r = new Random(12345);
        int n = 7, k = 3;
        for (double[] at : new double[][]{{0.6, 3}, {1, 20}, {0, 1}, {0.9, 1}}) {
            MultiLayerNetwork net = tinyNet(new DistillationLoss(at[0], at[1]), DataType.DOUBLE, null, 12345);
            INDArray x = Nd4j.create(randomLogits(r, n, 4, 1));
            INDArray labels = Nd4j.create(concat(randomDistributions(r, n, k), randomOneHot(r, n, k)));
            assertEquals(2 * k, labels.size(1));
            boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net)
                    .input(x).labels(labels).epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-10)
                    .print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
            assertTrue(ok, "gradient check failed for alpha=" + at[0] + " T=" + at[1]);
        }
    }

    @Test
    void jsonAndModelSerializerRoundTrip(@TempDir Path dir) throws Exception {
        DistillationLoss loss = new DistillationLoss(0.7, 8);
        MultiLayerNetwork net = tinyNet(loss, DataType.FLOAT, new Adam(1e-3), 1);
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        String json = conf.toJson();
        assertTrue(json.contains(DistillationLoss.class.getName()), json);
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
        assertEquals(conf, back);
        OutputLayer out = (OutputLayer) back.getConf(1).getLayer();
        assertEquals(loss, out.getLossFn());
        assertEquals(0.7, ((DistillationLoss) out.getLossFn()).getAlpha());
        assertEquals(8.0, ((DistillationLoss) out.getLossFn()).getTemperature());
        assertEquals(loss, ((OutputLayer) MultiLayerConfiguration.fromYaml(conf.toYaml()).getConf(1).getLayer()).getLossFn());

        File file = dir.resolve("student.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        OutputLayer restoredOut = (OutputLayer) restored.getLayerWiseConfigurations().getConf(1).getLayer();
        assertEquals(loss, restoredOut.getLossFn());
        assertEquals(net.params(), restored.params());
        Random r = new Random(9);
        INDArray x = Nd4j.create(randomLogits(r, 5, 4, 1)).castTo(DataType.FLOAT);
        INDArray labels = Nd4j.create(concat(randomDistributions(r, 5, 3), randomOneHot(r, 5, 3))).castTo(DataType.FLOAT);
        DataSet ds = new DataSet(x, labels);
        assertEquals(net.score(ds), restored.score(ds), 1e-6);
        assertEquals(net.output(x), restored.output(x));
    }

    @Test
    void trainingWithTheLossDecreasesIt() {
        Random r = new Random(2024);
        int n = 256, d = 4, k = 3;
        double t = 4;
        double[][] teacherW = randomLogits(r, d, k, 2);
        double[][] x = randomLogits(r, n, d, 1);
        double[][] teacherLogits = new double[n][k];
        double[][] y = new double[n][k];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int j = 0; j < k; j++) {
                for (int m = 0; m < d; m++) teacherLogits[i][j] += x[i][m] * teacherW[m][j];
                if (teacherLogits[i][j] > teacherLogits[i][best]) best = j;
            }
            y[i][best] = 1;
        }
        INDArray labels = DistillationLoss.labels(Nd4j.create(softmaxRows(teacherLogits, t)).castTo(DataType.FLOAT),
                Nd4j.create(y).castTo(DataType.FLOAT));
        assertEquals(2L * k, labels.size(1));
        DataSet ds = new DataSet(Nd4j.create(x).castTo(DataType.FLOAT), labels);

        MultiLayerNetwork student = tinyNet(new DistillationLoss(0.7, t), DataType.FLOAT, new Adam(0.02), 7);
        double before = student.score(ds);
        for (int i = 0; i < 300; i++) student.fit(ds);
        double after = student.score(ds);
        assertTrue(Double.isFinite(after));
        assertTrue(after < 0.5 * before, "loss should fall: " + before + " -> " + after);

        INDArray probs = student.output(ds.getFeatures());
        assertEquals(k, probs.size(1));
        assertEquals(n, probs.sum(1).sumNumber().doubleValue(), 1e-3);   // still softmax probabilities
        INDArray predicted = probs.argMax(1);
        int correct = 0;
        for (int i = 0; i < n; i++) if (y[i][predicted.getInt(i)] == 1) correct++;
        assertTrue(correct > 0.9 * n, "student agrees with the teacher on " + correct + "/" + n);
    }
}
