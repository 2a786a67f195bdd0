package dev.squeeze.serve.bench;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.onnx.OnnxGraph;
import dev.squeeze.compress.onnx.quantize.OnnxQuantizeOutcome;
import dev.squeeze.compress.onnx.quantize.OnnxQuantizeService;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.train.TrainingMonitor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/**
 * A third-party-like ONNX model with no labelled dataset, float and int8: a small embedding network written with the
 * project's ONNX builder (input {@code x} FP32 [batch, 64], MatMul 64→128, Relu, MatMul 128→64, Tanh; output
 * {@code embedding} [batch, 64]), quantized by the real {@code squeeze quantize --from FILE --inputs DIR --mode dynamic}
 * service on request bodies of random inputs (all of them measured on), so the int8 file carries the figures in its provenance.
 *
 * @param floatFile     the float model ({@value #FLOAT})
 * @param quantizedFile the int8 model ({@value #INT8}), its provenance naming the float file's SHA-256
 * @param outcome       what the quantizer reported, figures included
 */
public record QuantizedOnnx(Path floatFile, Path quantizedFile, OnnxQuantizeOutcome outcome) {
    public static final String FLOAT = "embedder.onnx";
    public static final String INT8 = "embedder-int8.onnx";
    private static final long DIM = 64;
    private static final QuantParams DYNAMIC = QuantParams.SETTINGS.with(QuantParams.DEFAULTS, "mode", QuantParams.DYNAMIC);

    /** Writes both files into {@code dir} (a ledger and run folders go into {@code dir/runs}). */
    public static QuantizedOnnx write(Path dir) {
        try {
            Files.createDirectories(dir);
            Path floatFile = dir.resolve(FLOAT);
            Files.write(floatFile, embedder().toByteArray());
            Path inputs = Files.createDirectories(dir.resolve("requests"));
            Random r = new Random(7);
            for (int f = 0; f < 3; f++) {
                StringBuilder data = new StringBuilder();
                for (int i = 0; i < 4 * DIM; i++) data.append(i == 0 ? "" : ",").append((float) r.nextGaussian());
                Files.writeString(inputs.resolve("request-" + f + ".json"), "{\"inputs\":[{\"name\":\"x\",\"shape\":[4,"
                        + DIM + "],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}");
            }
            Path runs = dir.resolve("runs");
            Path quantized = dir.resolve(INT8);
            OnnxQuantizeOutcome outcome = new OnnxQuantizeService(new Workspace(runs, runs.resolve("ledger.db").toString()),
                    TrainingMonitor.SILENT).quantize(floatFile, DYNAMIC, quantized, inputs);
            return new QuantizedOnnx(floatFile, quantized, outcome);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static OnnxMl.ModelProto embedder() {
        Random r = new Random(3);
        OnnxGraph g = new OnnxGraph("embedder");
        OnnxMl.TensorProto.DataType f = OnnxMl.TensorProto.DataType.FLOAT;
        String x = g.input("x", f, -1, DIM);
        String hidden = g.relu(g.matMul(x, weights(g, "w1", r, DIM, 2 * DIM)));
        String out = g.activation("Tanh", g.matMul(hidden, weights(g, "w2", r, 2 * DIM, DIM)), Map.of());
        g.output("embedding", out, f, -1, DIM);
        return g.model(8, 17, "test", "a small embedding model", Map.of());
    }

    private static String weights(OnnxGraph g, String name, Random r, long rows, long cols) {
        float[] v = new float[(int) (rows * cols)];
        double std = 1 / Math.sqrt(rows);
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * std);
        return g.floats(name, v, rows, cols);
    }
}
