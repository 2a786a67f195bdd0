package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import com.google.protobuf.ByteString;
import dev.squeeze.core.PackedEntries;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A pruned weight <em>packed</em>: its non-zero elements as a bit stream of (gap, code) entries, one per element,
 * and a codebook of its distinct values, unpacked by standard ONNX operators that ONNX Runtime computes once, when
 * it loads the model (constant folding), so the graph it optimizes and runs holds the dense weight, and its integer
 * fusions still apply. It is the relative-index and weight-sharing storage of Deep Compression (Han et al. 2016),
 * less its Huffman coding, in a file ONNX Runtime serves as it is.
 *
 * <p>Each entry is {@code gap * 2^codeBits + code} in {@code gapBits + codeBits} bits, packed least significant bit
 * first into bytes: the gap is how many zeros come before the element since the previous entry, the code its value's
 * place in the codebook (whose first value is zero). A gap wider than {@code gapBits} takes filler entries of code 0
 * that each skip {@code 2^gapBits} positions, as Deep Compression pads its relative indices. The gap width is chosen
 * per weight for the fewest bits in all; the code width is the fewest that number every distinct value and zero. An
 * int8 weight has at most 255 distinct non-zero values, so its entries take at most 8 bits for the code; weight
 * sharing (a few values a layer) takes it to 3 or 4, and a 6%-dense layer's gaps to 5 or 6.
 *
 * <p>The unpacking is one node per weight, {@code dev.squeeze.Unpack(bits, codebook)}, a function defined in the
 * model ({@link #function}) from Range, Gather, integer Div and Mod, CumSum, Expand, ScatterElements and Reshape;
 * ONNX Runtime inlines model functions before it optimizes. {@link #unpack} computes the same in Java, for code that
 * reads weights from the initializers.
 */
public final class PackedWeights {
    /** The domain of the unpacking function. */
    public static final String DOMAIN = PackedEntries.DOMAIN;
    /** The unpacking function's name. */
    public static final String OP = PackedEntries.OP;
    /** Bytes of zeros after the entries, so that the 4 bytes read for the last entry are in the stream. */
    private static final int PADDING = 3;
    /** Widest entry: its first bit is one of a byte's 8 and it must end within the 4 bytes read for it. */
    private static final int MAX_ENTRY_BITS = 25;
    /** Most distinct values a codebook may hold. */
    private static final int MAX_CODE_BITS = 16;

    private PackedWeights() {
    }

    /**
     * A weight packed.
     *
     * @param bits      the entry stream (UINT8, padded)
     * @param codebook  the distinct values, zero first (the weight's type)
     * @param node      the Unpack node whose output is the weight
     * @param entries   entries in the stream, fillers included
     * @param nonzero   non-zero elements
     * @param gapBits   bits of each entry's gap
     * @param codeBits  bits of each entry's code
     */
    public record Packed(OnnxMl.TensorProto bits, OnnxMl.TensorProto codebook, OnnxMl.NodeProto node, long entries,
                         long nonzero, int gapBits, int codeBits) {
        /** Bits a stored non-zero element costs in the stream, fillers included. */
        public double bitsPerElement() {
            return nonzero == 0 ? 0 : (double) entries * (gapBits + codeBits) / nonzero;
        }
    }

    /**
     * Weight {@code t} packed, its tensors named {@code bitsName} and {@code codebookName}; null when its distinct
     * values are too many for a codebook. Its type and raw data are the caller's to check ({@link SparseInitializers}).
     *
     * @param size      bytes per element of {@code t}'s type
     * @param floating  whether {@code t} is a float type, whose {@code -0.0} is zero too
     */
    static Packed pack(OnnxMl.TensorProto t, int size, boolean floating, String bitsName, String codebookName) {
        ByteString raw = t.getRawData();
        long n = raw.size() / size;
        TreeMap<Long, Integer> book = new TreeMap<>();
        long[] positions = new long[(int) n];
        long[] patterns = new long[(int) n];
        int nnz = 0;
        for (int i = 0; i < n; i++) {
            if (SparseInitializers.isZero(raw, i, size, floating)) continue;
            long pattern = 0;
            for (int b = 0; b < size; b++) pattern |= (raw.byteAt(i * size + b) & 0xffL) << (8 * b);
            positions[nnz] = i;
            patterns[nnz++] = pattern;
            book.put(pattern, 0);
            if (book.size() >= 1 << MAX_CODE_BITS) return null;
        }
        int codes = book.size() + 1;
        int codeBits = Math.max(1, 32 - Integer.numberOfLeadingZeros(codes - 1));
        int next = 1;
        for (Map.Entry<Long, Integer> e : book.entrySet()) e.setValue(next++);
        long[] gaps = new long[nnz];
        for (int k = 0; k < nnz; k++) gaps[k] = positions[k] - (k == 0 ? 0 : positions[k - 1] + 1);
        int gapBits = 0;
        long fewest = Long.MAX_VALUE;
        for (int g = 0; g + codeBits <= MAX_ENTRY_BITS; g++) {
            long bits = entries(gaps, g) * (g + codeBits);
            if (bits < fewest) {
                fewest = bits;
                gapBits = g;
            }
        }
        int width = gapBits + codeBits;
        long entries = entries(gaps, gapBits);
        byte[] stream = new byte[Math.toIntExact((entries * width + 7) / 8 + PADDING)];
        long bit = 0;
        long fillerGap = (1L << gapBits) - 1;
        for (int k = 0; k < nnz; k++) {
            long gap = gaps[k];
            while (gap > fillerGap) {
                bit = PackedEntries.write(stream, bit, fillerGap << codeBits, width);
                gap -= fillerGap + 1;
            }
            bit = PackedEntries.write(stream, bit, (gap << codeBits) | book.get(patterns[k]), width);
        }
        ByteString.Output values = ByteString.newOutput();
        for (int b = 0; b < size; b++) values.write(0);
        for (long pattern : book.keySet()) for (int b = 0; b < size; b++) values.write((int) (pattern >>> (8 * b)));
        OnnxMl.TensorProto bitsTensor = OnnxMl.TensorProto.newBuilder().setName(bitsName).setDataType(DataType.UINT8_VALUE)
                .addDims(stream.length).setRawData(ByteString.copyFrom(stream)).build();
        OnnxMl.TensorProto codebook = OnnxMl.TensorProto.newBuilder().setName(codebookName).setDataType(t.getDataType())
                .addDims(codes).setRawData(values.toByteString()).build();
        OnnxMl.NodeProto node = OnnxMl.NodeProto.newBuilder().setOpType(OP).setDomain(DOMAIN)
                .addInput(bitsName).addInput(codebookName).addOutput(t.getName())
                .addAttribute(intAttribute("entries", entries))
                .addAttribute(intAttribute("width", width))
                .addAttribute(intAttribute("code_range", 1L << codeBits))
                .addAttribute(intsAttribute("shape", t.getDimsList()))
                .build();
        return new Packed(bitsTensor, codebook, node, entries, nnz, gapBits, codeBits);
    }

    /** Entries for {@code gaps} with {@code gapBits}-bit gaps: one per element, and a filler per 2^gapBits skipped. */
    private static long entries(long[] gaps, int gapBits) {
        long count = gaps.length;
        for (long gap : gaps) count += gap >>> gapBits;
        return count;
    }

    /** Whether {@code n} is an Unpack node of this class. */
    public static boolean isUnpack(OnnxMl.NodeProto n) {
        return n.getOpType().equals(OP) && n.getDomain().equals(DOMAIN);
    }

    /**
     * The dense weight an Unpack node computes from its {@code bits} and {@code codebook}, as ONNX Runtime does, named
     * as its output.
     *
     * @throws IllegalArgumentException when the node's attributes and tensors disagree
     */
    public static OnnxMl.TensorProto unpack(OnnxMl.NodeProto node, OnnxMl.TensorProto bits, OnnxMl.TensorProto codebook) {
        Map<String, OnnxMl.AttributeProto> at = new HashMap<>();
        node.getAttributeList().forEach(a -> at.put(a.getName(), a));
        for (String name : List.of("entries", "width", "code_range", "shape")) {
            if (!at.containsKey(name)) throw new IllegalArgumentException(OP + " node for '" + node.getOutput(0) + "' lacks attribute " + name);
        }
        long entries = at.get("entries").getI();
        int width = (int) at.get("width").getI();
        long codeRange = at.get("code_range").getI();
        List<Long> shape = at.get("shape").getIntsList();
        long n = 1;
        for (long d : shape) n *= d;
        int size = codebook.getRawData().size() / Math.toIntExact(codebook.getDims(0));
        byte[] stream = bits.getRawData().toByteArray();
        if ((entries * width + 7) / 8 > stream.length || width > MAX_ENTRY_BITS) {
            throw new IllegalArgumentException(OP + " node for '" + node.getOutput(0) + "': " + entries + " entries of "
                    + width + " bits in " + stream.length + " bytes");
        }
        byte[] book = codebook.getRawData().toByteArray();
        byte[] dense = new byte[Math.toIntExact(n * size)];
        long elements = n;
        PackedEntries.read(stream, entries, width, codeRange, (position, code) -> {
            if (position >= elements || (code + 1) * size > book.length) {
                throw new IllegalArgumentException(OP + " node for '" + node.getOutput(0) + "': an entry at " + position
                        + " with code " + code + " is outside the weight or its codebook");
            }
            System.arraycopy(book, code * size, dense, (int) position * size, size);
        });
        return OnnxMl.TensorProto.newBuilder().setName(node.getOutput(0)).setDataType(codebook.getDataType())
                .addAllDims(shape).setRawData(ByteString.copyFrom(dense)).build();
    }

    /**
     * The Unpack function, in the ONNX operators of {@code opset} (13 or later: Unsqueeze and ReduceSum take their
     * axes as inputs), for a model's {@code functions}.
     */
    public static OnnxMl.FunctionProto function(long opset) {
        Body b = new Body();
        String entries = b.constant("value_int", "entries");
        String width = b.constant("value_int", "width");
        String codeRange = b.constant("value_int", "code_range");
        String shape = b.constant("value_ints", "shape");
        String zero = b.ints(0);
        String one = b.ints(1);
        String eight = b.ints(8);
        String axis1 = b.ints(new long[]{1});
        // Entry e's bits start at bit e*width: in byte e*width/8, shifted by e*width%8; 4 bytes hold every entry.
        String bit = b.node("Mul", b.node("Range", zero, entries, one), width);
        String at = b.node("Add", b.node("Unsqueeze", b.node("Div", bit, eight), axis1), b.ints(new long[]{0, 1, 2, 3}));
        String bytes = b.node("Gather", b.node("Cast", Map.of("to", (long) DataType.INT64_VALUE), "bits"), at);
        String word = b.node("ReduceSum", Map.of("keepdims", 0L),
                b.node("Mul", bytes, b.ints(new long[]{1, 1 << 8, 1 << 16, 1 << 24})), axis1);
        String shifted = b.node("Div", word, b.node("Gather", b.ints(new long[]{1, 2, 4, 8, 16, 32, 64, 128}),
                b.node("Mod", bit, eight)));
        String entryRange = b.node("Pow", b.ints(2), width);
        String value = b.node("Mod", shifted, entryRange);
        String step = b.node("Add", b.node("Div", value, codeRange), one);
        String position = b.node("Sub", b.node("CumSum", step, zero), one);
        String values = b.node("Gather", "codebook", b.node("Mod", value, codeRange));
        String zeros = b.node("Expand", b.node("Gather", "codebook", zero),
                b.node("ReduceProd", Map.of("keepdims", 1L), shape));
        String flat = b.node("ScatterElements", Map.of("axis", 0L), zeros, position, values);
        b.node("Reshape", List.of(flat, shape), Map.of(), "weight");
        return OnnxMl.FunctionProto.newBuilder().setName(OP).setDomain(DOMAIN)
                .addInput("bits").addInput("codebook").addOutput("weight")
                .addAllAttribute(List.of("entries", "width", "code_range", "shape"))
                .addAllNode(b.nodes)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setDocString("A pruned weight from its (gap, code) entries and codebook: see Squeeze's docs/export.md")
                .build();
    }

    /** The nodes of the function's body, with short local names. */
    private static final class Body {
        final List<OnnxMl.NodeProto> nodes = new ArrayList<>();
        private int count;

        String constant(String field, String attribute) {
            OnnxMl.AttributeProto ref = OnnxMl.AttributeProto.newBuilder().setName(field).setRefAttrName(attribute)
                    .setType(field.equals("value_int") ? AttributeType.INT : AttributeType.INTS).build();
            String out = "t" + count++;
            nodes.add(OnnxMl.NodeProto.newBuilder().setOpType("Constant").addOutput(out).addAttribute(ref).build());
            return out;
        }

        String ints(long scalar) {
            String out = "t" + count++;
            nodes.add(OnnxMl.NodeProto.newBuilder().setOpType("Constant").addOutput(out)
                    .addAttribute(intAttribute("value_int", scalar)).build());
            return out;
        }

        String ints(long[] values) {
            String out = "t" + count++;
            nodes.add(OnnxMl.NodeProto.newBuilder().setOpType("Constant").addOutput(out)
                    .addAttribute(intsAttribute("value_ints", Arrays.stream(values).boxed().toList())).build());
            return out;
        }

        String node(String op, String... inputs) {
            return node(op, Map.of(), inputs);
        }

        String node(String op, Map<String, Long> attributes, String... inputs) {
            return node(List.of(inputs), attributes, op, "t" + count++);
        }

        String node(String op, List<String> inputs, Map<String, Long> attributes, String output) {
            return node(inputs, attributes, op, output);
        }

        private String node(List<String> inputs, Map<String, Long> attributes, String op, String output) {
            OnnxMl.NodeProto.Builder n = OnnxMl.NodeProto.newBuilder().setOpType(op).addAllInput(inputs).addOutput(output);
            new TreeMap<>(attributes).forEach((k, v) -> n.addAttribute(intAttribute(k, v)));
            nodes.add(n.build());
            return output;
        }
    }

    private static OnnxMl.AttributeProto intAttribute(String name, long value) {
        return OnnxMl.AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(value).build();
    }

    private static OnnxMl.AttributeProto intsAttribute(String name, List<Long> values) {
        return OnnxMl.AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS).addAllInts(values).build();
    }
}
