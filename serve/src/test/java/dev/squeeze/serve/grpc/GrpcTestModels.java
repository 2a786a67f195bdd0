package dev.squeeze.serve.grpc;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.TensorType;
import dev.squeeze.serve.runtime.TestModels;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Models for the gRPC tests, and the reference answers: the model file run in-process in a plain ONNX Runtime session. */
final class GrpcTestModels {
    /** The inputs of {@link #manyTypes}: one per datatype with a typed field, BYTES first. */
    static final List<TensorType> MANY = List.of(TensorType.BYTES, TensorType.BOOL, TensorType.INT8, TensorType.UINT8,
            TensorType.INT16, TensorType.INT32, TensorType.INT64, TensorType.FP32, TensorType.FP64);

    private GrpcTestModels() {
    }

    /**
     * Nine inputs of different types, each [batch, 2], named by type in lower case ({@code bytes}, {@code bool},
     * ..., {@code fp64}); an output for each, {@code NAME_out}: {@code bool_out = Not(bool)},
     * {@code int64_out = int64 + int64}, {@code fp32_out = fp32 * 2}, the others the input as it came (BYTES included).
     */
    static Path manyTypes(Path dir) {
        TestModels.Graph g = TestModels.graph("many_types").floats("two", new float[]{2f});
        for (TensorType t : MANY) g.input(name(t), t, -1, 2);
        for (TensorType t : MANY) {
            String in = name(t);
            String out = in + "_out";
            switch (t) {
                case BOOL -> g.node("Not", List.of(in), List.of(out));
                case INT64 -> g.node("Add", List.of(in, in), List.of(out));
                case FP32 -> g.node("Mul", List.of(in, "two"), List.of(out));
                default -> g.node("Identity", List.of(in), List.of(out));
            }
            g.output(out, t, -1, 2);
        }
        return g.writeTo(dir);
    }

    static String name(TensorType t) {
        return t.protocolName().toLowerCase(java.util.Locale.ROOT);
    }

    /** {@code file} run once in a fresh ONNX Runtime session (default options): every output, in the model's order. */
    static List<HostTensor> inProcess(Path file, List<HostTensor> inputs) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(file.toString(), new OrtSession.SessionOptions())) {
            Map<String, OnnxTensor> feed = new HashMap<>();
            try {
                for (HostTensor t : inputs) feed.put(t.name(), t.toOnnx(env));
                try (OrtSession.Result result = session.run(feed)) {
                    List<HostTensor> out = new ArrayList<>();
                    for (Map.Entry<String, OnnxValue> e : result) out.add(HostTensor.fromOnnx(e.getKey(), (OnnxTensor) e.getValue()));
                    return out;
                }
            } finally {
                feed.values().forEach(OnnxTensor::close);
            }
        }
    }
}
