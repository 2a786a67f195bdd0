package dev.squeeze.compress.prune;

import dev.squeeze.core.AtomicFiles;
import dev.squeeze.models.zoo.Network;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which weights of a network survive: for each prunable parameter (the weights {@code W} of dense, convolutional and
 * output layers, keyed as the network's parameter table keys them: {@code 0_W}, {@code 1_W}, ... in a layer stack,
 * {@code stem_W}, {@code s1_conv1_W}, ... in a graph; biases and batch-norm parameters are not pruned) a 0/1 flag per
 * weight. Applying it after every optimizer step keeps pruned weights at exactly zero.
 */
public final class Mask {
    private static final int MAGIC = 0x53514d4b;   // "SQMK"

    private final Map<String, boolean[]> keep;
    private final Map<String, long[]> shapes;
    /** The flags as 0/1 arrays, built on first use: applying runs after every optimizer step. */
    private final Map<String, INDArray> arrays = new java.util.HashMap<>();

    private Mask(Map<String, boolean[]> keep, Map<String, long[]> shapes) {
        this.keep = keep;
        this.shapes = shapes;
    }

    /** Every weight of every prunable layer kept, in a layer stack or a graph. */
    public static Mask dense(Network net) {
        Map<String, boolean[]> keep = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (String key : prunableParams(net)) {
            INDArray w = net.getParam(key);
            boolean[] all = new boolean[Math.toIntExact(w.length())];
            Arrays.fill(all, true);
            keep.put(key, all);
            shapes.put(key, w.shape());
        }
        return new Mask(keep, shapes);
    }

    /**
     * The weight parameters {@code W} of dense, convolutional and output layers, in the order the network computes
     * them ({@link Network#layers()}; a graph's output layer, which every other layer feeds, comes last). A batch
     * norm is a feed-forward layer to DL4J but has no {@code W}: its scale and shift are never pruned.
     */
    static java.util.List<String> prunableParams(Network net) {
        java.util.List<String> keys = new java.util.ArrayList<>();
        for (Network.NamedLayer l : net.layers()) {
            var layer = l.config();
            if (layer instanceof BaseLayer && (layer instanceof FeedForwardLayer || layer instanceof ConvolutionLayer)
                    && l.layer().numParams() > 0 && l.layer().paramTable().containsKey("W")) {
                keys.add(l.key("W"));
            }
        }
        return keys;
    }

    /** A mask with the given keep flags (copied); shapes as in {@code like}. */
    Mask with(Map<String, boolean[]> flags) {
        Map<String, boolean[]> copy = new LinkedHashMap<>();
        flags.forEach((k, v) -> copy.put(k, v.clone()));
        return new Mask(copy, shapes);
    }

    public Map<String, boolean[]> flags() {
        return Collections.unmodifiableMap(keep);
    }

    /** Sets every pruned weight of {@code net}, a layer stack or a graph, to exactly zero. */
    public void applyTo(Network net) {
        keep.forEach((key, flags) -> {
            INDArray w = net.getParam(key);
            INDArray m = arrays.get(key);
            if (m == null || m.dataType() != w.dataType()) {
                float[] values = new float[flags.length];
                for (int i = 0; i < values.length; i++) values[i] = flags[i] ? 1f : 0f;
                // Flags are in C (row-major) order, as every reader here takes them (dup('c')); a dense layer's W
                // view is F-ordered, so the mask array must say its own order.
                m = Nd4j.create(values, w.shape(), 'c').castTo(w.dataType());
                arrays.put(key, m);
            }
            // getParam is a live view of the flat parameter vector: multiplying in place prunes the network.
            w.muli(m);
        });
    }

    public long remaining(String key) {
        long n = 0;
        for (boolean b : keep.get(key)) if (b) n++;
        return n;
    }

    public long size(String key) {
        return keep.get(key).length;
    }

    /** Share of {@code key}'s weights that survive. */
    public double fraction(String key) {
        return (double) remaining(key) / size(key);
    }

    public long totalRemaining() {
        return keep.keySet().stream().mapToLong(this::remaining).sum();
    }

    public long totalSize() {
        return keep.keySet().stream().mapToLong(this::size).sum();
    }

    /** Share of all prunable weights that survive. */
    public double totalFraction() {
        return (double) totalRemaining() / totalSize();
    }

    /** Per layer and in total, the share of weights that survive. */
    public Map<String, Double> fractions() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String key : keep.keySet()) out.put(key, fraction(key));
        out.put("total", totalFraction());
        return out;
    }

    /** Whether every weight this mask keeps is kept by {@code other} too: masks only ever shrink. */
    public boolean isSubsetOf(Mask other) {
        for (var e : keep.entrySet()) {
            boolean[] theirs = other.keep.get(e.getKey());
            if (theirs == null || theirs.length != e.getValue().length) return false;
            for (int i = 0; i < theirs.length; i++) if (e.getValue()[i] && !theirs[i]) return false;
        }
        return true;
    }

    /** Writes the mask atomically: magic, parameter count, then per parameter its key, shape and packed bits. */
    public void save(Path file) {
        AtomicFiles.writeStream(file, stream -> {
            DataOutputStream out = new DataOutputStream(stream);
            out.writeInt(MAGIC);
            out.writeInt(keep.size());
            for (var e : keep.entrySet()) {
                out.writeUTF(e.getKey());
                long[] shape = shapes.get(e.getKey());
                out.writeInt(shape.length);
                for (long d : shape) out.writeLong(d);
                boolean[] flags = e.getValue();
                out.writeInt(flags.length);
                byte[] bits = new byte[(flags.length + 7) / 8];
                for (int i = 0; i < flags.length; i++) if (flags[i]) bits[i >> 3] |= (byte) (1 << (i & 7));
                out.write(bits);
            }
            out.flush();
        });
    }

    public static Mask load(Path file) {
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != MAGIC) throw new IOException("not a squeeze mask file");
            int count = in.readInt();
            Map<String, boolean[]> keep = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (int k = 0; k < count; k++) {
                String key = in.readUTF();
                long[] shape = new long[in.readInt()];
                for (int d = 0; d < shape.length; d++) shape[d] = in.readLong();
                boolean[] flags = new boolean[in.readInt()];
                byte[] bits = in.readNBytes((flags.length + 7) / 8);
                for (int i = 0; i < flags.length; i++) flags[i] = (bits[i >> 3] & (1 << (i & 7))) != 0;
                keep.put(key, flags);
                shapes.put(key, shape);
            }
            return new Mask(keep, shapes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read mask " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Mask other) || !keep.keySet().equals(other.keep.keySet())) return false;
        for (String key : keep.keySet()) if (!Arrays.equals(keep.get(key), other.keep.get(key))) return false;
        return true;
    }

    @Override
    public int hashCode() {
        return keep.keySet().hashCode();
    }
}
