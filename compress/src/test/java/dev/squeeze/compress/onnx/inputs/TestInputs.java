package dev.squeeze.compress.onnx.inputs;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.onnx.OnnxGraph;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Small ONNX models built with the project's builder, and numpy files written byte by byte as numpy writes them. */
public final class TestInputs {
    private TestInputs() {
    }

    /**
     * scores = x·W + b for x FP32 [batch, 4]: W copies x's first three columns, so scores = x[0..3] + b.
     *
     * @param bias b, three values
     */
    static byte[] linear(float... bias) {
        OnnxGraph g = new OnnxGraph("linear");
        String x = g.input("x", OnnxMl.TensorProto.DataType.FLOAT, -1, 4);
        float[] w = new float[12];
        for (int i = 0; i < 3; i++) w[i * 3 + i] = 1;
        String y = g.gemm(x, g.floats("w", w, 4, 3), g.floats("b", bias, 3));
        g.output("scores", y, OnnxMl.TensorProto.DataType.FLOAT, -1, 3);
        return g.model(8, 17, "test", "", Map.of()).toByteArray();
    }

    /**
     * Two inputs, one INT64: scores = float(ids)·W (ids INT64 [batch, 3], W takes the first two columns) and
     * half = x / 2 (x FP32 [batch, 2]).
     */
    static byte[] twoInputs() {
        OnnxGraph g = new OnnxGraph("two");
        String ids = g.input("ids", OnnxMl.TensorProto.DataType.INT64, -1, 3);
        String x = g.input("x", OnnxMl.TensorProto.DataType.FLOAT, -1, 2);
        String f = g.activation("Cast", ids, Map.of("to", (long) OnnxMl.TensorProto.DataType.FLOAT.getNumber()));
        String a = g.gemm(f, g.floats("w", new float[]{1, 0, 0, 1, 0, 0}, 3, 2), g.floats("b", new float[]{0, 0}, 2));
        g.output("scores", a, OnnxMl.TensorProto.DataType.FLOAT, -1, 2);
        g.output("half", g.mul(x, g.floats("h", new float[]{0.5f}, 1)), OnnxMl.TensorProto.DataType.FLOAT, -1, 2);
        return g.model(8, 17, "test", "", Map.of()).toByteArray();
    }

    static ModelSignature signature(byte[] model) {
        return ModelSignature.of(model, "test model");
    }

    // ---- .npy / .npz ----------------------------------------------------------------------------------------------

    /** An .npy file as numpy.save writes it (format 1.0, header padded to 64 bytes). */
    public static byte[] npy(String descr, boolean fortran, long[] shape, byte[] raw) {
        String dims = Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "));
        if (shape.length == 1) dims += ",";
        StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False")
                + ", 'shape': (" + dims + "), }");
        while ((10 + header.length() + 1) % 64 != 0) header.append(' ');
        header.append('\n');
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + raw.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length())
                .put(header.toString().getBytes(StandardCharsets.ISO_8859_1)).put(raw);
        return b.array();
    }

    public static byte[] npy(float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return npy("<f4", false, shape, b.array());
    }

    public static byte[] npy(long[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return npy("<i8", false, shape, b.array());
    }

    public static byte[] npy(double[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(values);
        return npy("<f8", false, shape, b.array());
    }

    /** An .npz archive of named .npy arrays, deflated as numpy.savez_compressed writes them, or stored as numpy.savez. */
    public static Path npz(Path file, boolean compressed, Map<String, byte[]> arrays) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.setMethod(compressed ? ZipOutputStream.DEFLATED : ZipOutputStream.STORED);
            for (Map.Entry<String, byte[]> e : arrays.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey() + ".npy");
                if (!compressed) {
                    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                    crc.update(e.getValue());
                    entry.setSize(e.getValue().length);
                    entry.setCrc(crc.getValue());
                }
                zip.putNextEntry(entry);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return Files.write(file, bytes.toByteArray());
    }
}
