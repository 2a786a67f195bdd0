package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.onnx.OnnxGraph;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/**
 * Small float graphs built with the project's ONNX builder, shaped like the models users bring: a transformer block,
 * an embedding model with int64 token ids, a small CNN. Weights are seeded Gaussians scaled by 1/sqrt(fan-in), so
 * activations stay in a realistic range. {@link #main} writes them to a folder (for the guide's example).
 */
final class TestGraphs {
    static final long SEQ = 8;
    static final long DIM = 64;
    static final long VOCAB = 100;
    static final long TOKENS = 16;
    private static final OnnxMl.TensorProto.DataType F = OnnxMl.TensorProto.DataType.FLOAT;

    private TestGraphs() {
    }

    /**
     * LayerNorm (ReduceMean, Sub, Pow, Add, Sqrt, Div, Mul, Add), Q/K/V projections (MatMul with constant weights, Add
     * bias), attention scores and context (two activation × activation MatMuls, Softmax), the output projection with
     * a residual Add, a feed-forward pair (64→128→64, Relu), and a 64→4 head too small to pay.
     * Input {@code x} [batch, 8, 64]; outputs {@code y} [batch, 8, 64] and {@code head} [batch, 8, 4].
     */
    static OnnxMl.ModelProto transformerBlock() {
        Random r = new Random(1);
        OnnxGraph g = new OnnxGraph("block");
        String x = g.input("x", F, -1, SEQ, DIM);
        String mean = g.reduceMean(x, -1);
        String d = g.sub(x, mean);
        String var = g.reduceMean(g.pow(d, g.floats("two", new float[]{2f})), -1);
        String norm = g.div(d, g.activation("Sqrt", g.add(var, g.floats("eps", new float[]{1e-5f})), Map.of()));
        String y = g.add(g.mul(norm, weights(g, "gamma", r, 1, DIM)), weights(g, "beta", r, 1, DIM));
        String q = g.add(g.matMul(y, weights(g, "wq", r, DIM, DIM)), weights(g, "bq", r, 1, DIM));
        String k = g.add(g.matMul(y, weights(g, "wk", r, DIM, DIM)), weights(g, "bk", r, 1, DIM));
        String v = g.add(g.matMul(y, weights(g, "wv", r, DIM, DIM)), weights(g, "bv", r, 1, DIM));
        String scores = g.mul(g.matMul(q, g.transpose(k, 0, 2, 1)), g.floats("inv_sqrt_d", new float[]{0.125f}));
        String context = g.matMul(g.softmax(scores), v);
        String attended = g.add(g.matMul(context, weights(g, "wo", r, DIM, DIM)), x);
        String hidden = g.relu(g.matMul(attended, weights(g, "w1", r, DIM, 2 * DIM)));
        String out = g.add(g.matMul(hidden, weights(g, "w2", r, 2 * DIM, DIM)), attended);
        String head = g.matMul(out, weights(g, "w_head", r, DIM, 4));
        g.output("y", out, F, -1, SEQ, DIM);
        g.output("head", head, F, -1, SEQ, 4);
        return g.model(8, 17, "test", "transformer-like block", Map.of());
    }

    /**
     * Token ids (int64 [batch, 16]) into an embedding table (Gather), a 64×64 MatMul, mean over the tokens, and a
     * Gemm laid out as PyTorch's Linear (transB 1, [32, 64]) with alpha 0.5, beta 2 and a bias.
     * Output {@code sentence} [batch, 32].
     */
    static OnnxMl.ModelProto tokenModel() {
        Random r = new Random(2);
        OnnxGraph g = new OnnxGraph("tokens");
        String ids = g.input("input_ids", OnnxMl.TensorProto.DataType.INT64, -1, TOKENS);
        String embedded = g.gather(weights(g, "embedding", r, VOCAB, DIM), ids);
        String hidden = g.activation("Tanh", g.matMul(embedded, weights(g, "w", r, DIM, DIM)), Map.of());
        String pooled = g.reshape(g.reduceMean(hidden, 1), -1, DIM);
        String out = g.gemm(pooled, weights(g, "linear_weight", r, 32, DIM), weights(g, "linear_bias", r, 32), true, 0.5f, 2f);
        g.output("sentence", out, F, -1, 32);
        return g.model(8, 17, "test", "token model", Map.of());
    }

    /**
     * Token ids (int64 [batch, 16]) into an embedding table {@code embedding} [100, 64] (Gather), a 64×64 MatMul, Tanh,
     * mean over the tokens, and scores over the vocabulary from the same table: a Gemm with transB 1 reading
     * {@code embedding} as its weight (a tied output layer, as language models have), plus a bias. Output
     * {@code scores} [batch, 100].
     */
    static OnnxMl.ModelProto tiedEmbedding() {
        Random r = new Random(5);
        OnnxGraph g = new OnnxGraph("tied");
        String ids = g.input("input_ids", OnnxMl.TensorProto.DataType.INT64, -1, TOKENS);
        String table = weights(g, "embedding", r, VOCAB, DIM);
        String hidden = g.activation("Tanh", g.matMul(g.gather(table, ids), weights(g, "w", r, DIM, DIM)), Map.of());
        String pooled = g.reshape(g.reduceMean(hidden, 1), -1, DIM);
        String scores = g.gemm(pooled, table, weights(g, "scores_bias", r, VOCAB), true, 1f, 1f);
        g.output("scores", scores, F, -1, VOCAB);
        return g.model(8, 17, "test", "tied embedding", Map.of());
    }

    /**
     * Conv 3→8 (3×3: 27 inputs per output, too few to pay), Relu, MaxPool, Conv 8→16 (72 inputs per output), Relu,
     * MaxPool, Flatten, Gemm 256→10. Input {@code image} [batch, 3, 16, 16]; output {@code logits} [batch, 10].
     */
    static OnnxMl.ModelProto cnn() {
        Random r = new Random(3);
        OnnxGraph g = new OnnxGraph("cnn");
        String x = g.input("image", F, -1, 3, 16, 16);
        long[] k3 = {3, 3};
        long[] one = {1, 1};
        long[] pad = {1, 1, 1, 1};
        long[] two = {2, 2};
        long[] none = {0, 0, 0, 0};
        String c1 = g.relu(g.conv(x, weights(g, "conv1_w", r, 8, 3, 3, 3), weights(g, "conv1_b", r, 8), k3, one, pad));
        String p1 = g.maxPool(c1, two, two, none);
        String c2 = g.relu(g.conv(p1, weights(g, "conv2_w", r, 16, 8, 3, 3), weights(g, "conv2_b", r, 16), k3, one, pad));
        String p2 = g.maxPool(c2, two, two, none);
        String logits = g.gemm(g.flatten(p2), weights(g, "fc_w", r, 256, 10), weights(g, "fc_b", r, 10));
        g.output("logits", logits, F, -1, 10);
        return g.model(8, 17, "test", "small cnn", Map.of());
    }

    /**
     * Three MatMuls with Tanh between: {@code x} [batch, 64] through 64→64 ({@code w_in}), 64→64 ({@code w_mid}) and
     * 64→32 ({@code w_out}); output {@code scores} [batch, 32]. Row 0 of {@code w_in} is 100 where its other weights are
     * about 0.12: int8 gives each of its columns the scale 100/127, which rounds the rest of the column to zero, so
     * quantizing that node wrecks the output, while in float the row adds nothing on inputs whose feature 0 is 0 (a
     * dead feature with a stray weight; {@link #outlierInputs}). The other two nodes cost little.
     */
    static OnnxMl.ModelProto outlier() {
        Random r = new Random(4);
        OnnxGraph g = new OnnxGraph("outlier");
        String x = g.input("x", F, -1, DIM);
        float[] in = new float[(int) (DIM * DIM)];
        for (int i = 0; i < in.length; i++) in[i] = i < DIM ? 100f : (float) (r.nextGaussian() / 8);
        String h1 = g.activation("Tanh", g.matMul(x, g.floats("w_in", in, DIM, DIM)), Map.of());
        String h2 = g.activation("Tanh", g.matMul(h1, weights(g, "w_mid", r, DIM, DIM)), Map.of());
        String scores = g.matMul(h2, weights(g, "w_out", r, DIM, 32));
        g.output("scores", scores, F, -1, 32);
        return g.model(8, 17, "test", "one node int8 cannot take", Map.of());
    }

    /** {@code files} request bodies of {@code rows} rows of {@link #outlier}'s input: Gaussian, feature 0 always 0. */
    static Path outlierInputs(Path dir, int files, int rows) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(6);
        for (int f = 0; f < files; f++) {
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < rows * DIM; i++) {
                data.append(i == 0 ? "" : ",").append(i % DIM == 0 ? "0" : String.format(java.util.Locale.ROOT, "%.5f",
                        r.nextGaussian()));
            }
            Files.writeString(dir.resolve("request-" + f + ".json"), "{\"inputs\":[{\"name\":\"x\",\"shape\":[" + rows
                    + "," + DIM + "],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}");
        }
        return dir;
    }

    /** Gaussian weights with standard deviation 1/sqrt(fan-in) (the second dimension for a matrix, else the rest). */
    private static String weights(OnnxGraph g, String name, Random r, long... dims) {
        long n = 1;
        for (long d : dims) n *= d;
        long fanIn = dims.length == 2 ? dims[0] : Math.max(1, n / dims[0]);
        if (dims.length == 2 && dims[0] == 1) fanIn = 1;
        float[] v = new float[(int) n];
        double std = 1 / Math.sqrt(fanIn);
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * std);
        return g.floats(name, v, dims);
    }

    /** Writes the graphs as .onnx files into the folder given: block, tokens, cnn and outlier. */
    public static void main(String[] args) throws IOException {
        Path dir = Files.createDirectories(Path.of(args[0]));
        Files.write(dir.resolve("block.onnx"), transformerBlock().toByteArray());
        Files.write(dir.resolve("tokens.onnx"), tokenModel().toByteArray());
        Files.write(dir.resolve("cnn.onnx"), cnn().toByteArray());
        Files.write(dir.resolve("outlier.onnx"), outlier().toByteArray());
    }
}
