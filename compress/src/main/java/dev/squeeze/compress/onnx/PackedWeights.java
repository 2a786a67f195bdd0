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
 * A pruned weight <em>packed</em>: its non-zero elements as bit streams of (gap, code) entries, one per element, and
 * a codebook of its distinct values, unpacked by standard ONNX operators that ONNX Runtime computes once, when it
 * loads the model (constant folding), so the graph it optimizes and runs holds the dense weight, and its integer
 * fusions still apply. It is the relative-index and weight-sharing storage of Deep Compression (Han et al. 2016), its
 * gaps Rice-coded where Deep Compression Huffman-codes them, in a file ONNX Runtime serves as it is.
 *
 * <p>Each element's gap (how many zeros come before it since the previous element) is split Rice's way: its low
 * {@code gapBits} bits go with its code (its value's place in the codebook, whose first value is zero) into a
 * fixed-width entry of the <em>entry stream</em>, {@code low * 2^codeBits + code} in {@code gapBits + codeBits} bits,
 * packed least significant bit first; the rest, {@code gap >> gapBits}, goes in unary into the <em>high stream</em>
 * (that many 0 bits, then a 1). Where each entry's unary code ends is what a fixed-width code cannot give without a
 * sequential decoder: a CumSum ranks the 1 bits and a ScatterElements that adds counts the 0s before each, all at
 * once, in a handful of vector operators whose shapes ONNX Runtime can infer (it folds no node of a data-dependent
 * shape, such as NonZero).
 *
 * <p>Gaps of a pruned layer are near geometric, for which Rice coding is within a few percent of their entropy: a
 * 6%-dense layer's take about 5.5 bits (3 low bits and 2.5 in unary; their entropy is 5.4), where a fixed 6-bit gap
 * and fillers for the longer ones took 6.2. Where that fixed form is smaller (every gap short: a dense layer of shared
 * values, whose gaps are all 0), it is kept: fixed gaps, a filler entry of code 0 for each {@code 2^gapBits} zeros of
 * a longer one, and a high stream of one byte of 1 bits, which adds nothing. {@code gapBits} and the form are chosen
 * per weight for the fewest bits in all; the code width is the fewest that number every distinct value and zero: at
 * most 8 for an int8 weight, 4 with weight sharing at 15 values.
 *
 * <p>The unpacking is one node per weight, {@code dev.squeeze.Unpack(bits, codebook, high)}, a function defined in the
 * model ({@link #function}) from Range, Gather, MatMul, integer Div and Mod, CumSum, Concat, Expand, ScatterElements
 * and Reshape (opset 16: a ScatterElements that adds); ONNX Runtime inlines model functions before it optimizes.
 * {@link #unpack} computes the same in Java, for code that reads weights from the initializers; it also reads the
 * two-input nodes of files written before the high stream existed (their own function definition unpacks them in
 * ONNX Runtime).
 */
public final class PackedWeights {
    /** The domain of the unpacking function. */
    public static final String DOMAIN = PackedEntries.DOMAIN;
    /** The unpacking function's name. */
    public static final String OP = PackedEntries.OP;
    /** The first opset the function is written in: its ScatterElements adds what lands on one index (reduction). */
    public static final long FIRST_OPSET = 16;
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
     * @param high      the high stream: each gap's high part in unary (UINT8), or one byte of 1 bits for none
     * @param node      the Unpack node whose output is the weight
     * @param entries   entries in the stream: one per non-zero element, and fillers where the gaps are not Rice-coded
     * @param nonzero   non-zero elements
     * @param gapBits   bits of each entry's gap in the entry stream (the low part, when Rice-coded)
     * @param codeBits  bits of each entry's code
     * @param rice      whether the gaps are Rice-coded (their high parts in the high stream), or fixed with fillers
     * @param highBits  bits of the high stream used
     */
    public record Packed(OnnxMl.TensorProto bits, OnnxMl.TensorProto codebook, OnnxMl.TensorProto high,
                         OnnxMl.NodeProto node, long entries, long nonzero, int gapBits, int codeBits, boolean rice,
                         long highBits) {
        /** Bits a stored non-zero element costs in the two streams, fillers included. */
        public double bitsPerElement() {
            return nonzero == 0 ? 0 : (double) (entries * (gapBits + codeBits) + highBits) / nonzero;
        }
    }

    /**
     * Weight {@code t} packed, its tensors named {@code bitsName}, {@code codebookName} and {@code highName}; null when
     * its distinct values are too many for a codebook. Its type and raw data are the caller's to check
     * ({@link SparseInitializers}).
     *
     * @param size      bytes per element of {@code t}'s type
     * @param floating  whether {@code t} is a float type, whose {@code -0.0} is zero too
     */
    static Packed pack(OnnxMl.TensorProto t, int size, boolean floating, String bitsName, String codebookName,
                       String highName) {
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
        // Rice (each gap's high part in unary: a bit an element at least) or fixed gaps with fillers and no high parts
        // (a weight whose gaps are all short, or none: a dense layer of shared values), whichever takes fewer bits.
        boolean rice = false;
        int gapBits = 0;
        long fewest = Long.MAX_VALUE;
        for (int g = 0; g + codeBits <= MAX_ENTRY_BITS; g++) {
            long spilled = elementsPlusHighParts(gaps, g);
            long riceBits = (long) nnz * (g + codeBits) + spilled;
            long fixedBits = spilled * (g + codeBits) + 8;
            if (Math.min(riceBits, fixedBits) < fewest) {
                fewest = Math.min(riceBits, fixedBits);
                gapBits = g;
                rice = riceBits < fixedBits;
            }
        }
        int width = gapBits + codeBits;
        long spilled = elementsPlusHighParts(gaps, gapBits);
        long entries = rice ? nnz : spilled;
        long highBits = rice ? spilled : 8;
        byte[] stream = new byte[Math.toIntExact((entries * width + 7) / 8 + PADDING)];
        byte[] highStream = new byte[Math.toIntExact(Math.max(1, (highBits + 7) / 8))];
        long bit = 0;
        long highBit = 0;
        long lowMask = (1L << gapBits) - 1;
        for (int k = 0; k < nnz; k++) {
            long gap = gaps[k];
            if (rice) {
                highBit = PackedEntries.writeUnary(highStream, highBit, gap >>> gapBits);
                gap &= lowMask;
            }
            while (gap > lowMask) {
                bit = PackedEntries.write(stream, bit, lowMask << codeBits, width);
                gap -= lowMask + 1;
            }
            bit = PackedEntries.write(stream, bit, (gap << codeBits) | book.get(patterns[k]), width);
        }
        if (!rice) highStream[0] = (byte) 0xff;   // eight 1 bits and no 0: every high part is 0
        ByteString.Output values = ByteString.newOutput();
        for (int b = 0; b < size; b++) values.write(0);
        for (long pattern : book.keySet()) for (int b = 0; b < size; b++) values.write((int) (pattern >>> (8 * b)));
        OnnxMl.TensorProto bitsTensor = uint8s(bitsName, stream);
        OnnxMl.TensorProto highTensor = uint8s(highName, highStream);
        OnnxMl.TensorProto codebook = OnnxMl.TensorProto.newBuilder().setName(codebookName).setDataType(t.getDataType())
                .addDims(codes).setRawData(values.toByteString()).build();
        OnnxMl.NodeProto node = OnnxMl.NodeProto.newBuilder().setOpType(OP).setDomain(DOMAIN)
                .addInput(bitsName).addInput(codebookName).addInput(highName).addOutput(t.getName())
                .addAttribute(intAttribute("entries", entries))
                .addAttribute(intAttribute("width", width))
                .addAttribute(intAttribute("code_range", 1L << codeBits))
                .addAttribute(intsAttribute("shape", t.getDimsList()))
                .build();
        return new Packed(bitsTensor, codebook, highTensor, node, entries, nnz, gapBits, codeBits, rice, highBits);
    }

    private static OnnxMl.TensorProto uint8s(String name, byte[] data) {
        return OnnxMl.TensorProto.newBuilder().setName(name).setDataType(DataType.UINT8_VALUE).addDims(data.length)
                .setRawData(ByteString.copyFrom(data)).build();
    }

    /**
     * The elements plus their gaps' high parts ({@code gap >> gapBits}): the bits of the high stream when the gaps are
     * Rice-coded (a 1 an element, a 0 a unit of high part), or the entries with fillers when they are not (an entry an
     * element, a filler for each 2^gapBits zeros skipped beyond the low part).
     */
    private static long elementsPlusHighParts(long[] gaps, int gapBits) {
        long count = gaps.length;
        for (long gap : gaps) count += gap >>> gapBits;
        return count;
    }

    /** Whether {@code n} is an Unpack node of this class. */
    public static boolean isUnpack(OnnxMl.NodeProto n) {
        return n.getOpType().equals(OP) && n.getDomain().equals(DOMAIN);
    }

    /**
     * The dense weight an Unpack node computes from its {@code bits}, {@code codebook} and {@code high} stream (null for a
     * node of two inputs, written before the high stream), as ONNX Runtime does, named as its output.
     *
     * @throws IllegalArgumentException when the node's attributes and tensors disagree
     */
    public static OnnxMl.TensorProto unpack(OnnxMl.NodeProto node, OnnxMl.TensorProto bits, OnnxMl.TensorProto codebook,
                                            OnnxMl.TensorProto high) {
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
        byte[] highStream = high == null ? null : high.getRawData().toByteArray();
        PackedEntries.read(stream, entries, width, codeRange, highStream, (position, code) -> {
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
     * The Unpack function, in the ONNX operators of {@code opset} ({@link #FIRST_OPSET} or later), for a model's
     * {@code functions}.
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
        String powers = b.ints(new long[]{1, 2, 4, 8, 16, 32, 64, 128});
        // Entry e's bits start at bit e*width: in byte e*width/8, shifted by e*width%8; 4 bytes hold every entry, and
        // a MatMul makes their little-endian word.
        String entry = b.node("Range", zero, entries, one);
        String bit = b.node("Mul", entry, width);
        String at = b.node("Add", b.node("Unsqueeze", b.node("Div", bit, eight), axis1), b.ints(new long[]{0, 1, 2, 3}));
        String bytes = b.node("Gather", b.node("Cast", Map.of("to", (long) DataType.INT64_VALUE), "bits"), at);
        String word = b.node("MatMul", bytes, b.ints(new long[]{1, 1 << 8, 1 << 16, 1 << 24}));
        String shifted = b.node("Div", word, b.node("Gather", powers, b.node("Mod", bit, eight)));
        String two = b.ints(2);
        String entryRange = b.node("Pow", two, width);
        String value = b.node("Mod", shifted, entryRange);
        // The high stream's bits, least significant first. A 0 bit before entry e's terminating 1 has rank e (the 1s
        // before it), so adding each 0 at its rank counts every entry's high part at once, into zeros as long as the
        // stream and the entries together; the padding's 0s after the last 1 land at rank `entries`, which no entry
        // reads, and a stream of 1 bits alone gives every entry a high part of 0 (fixed gaps). Every shape here follows from the tensors'
        // shapes, so ONNX Runtime folds it (it leaves a node of a data-dependent shape, such as NonZero, to run).
        String highBits = b.node("Reshape", b.node("Mod", b.node("Div", b.node("Unsqueeze",
                b.node("Cast", Map.of("to", (long) DataType.INT64_VALUE), "high"), axis1), powers), two), b.ints(new long[]{-1}));
        String rank = b.node("CumSum", highBits, zero);
        String counts = b.scatterAdd(b.node("Concat", Map.of("axis", 0L), b.node("Sub", highBits, highBits),
                b.node("Mul", entry, zero)), rank, b.node("Sub", one, highBits));
        String high = b.node("Gather", counts, entry);
        String step = b.node("Add", b.node("Add", b.node("Div", value, codeRange), one),
                b.node("Mul", high, b.node("Div", entryRange, codeRange)));
        String position = b.node("Sub", b.node("CumSum", step, zero), one);
        String values = b.node("Gather", "codebook", b.node("Mod", value, codeRange));
        String zeros = b.node("Expand", b.node("Gather", "codebook", zero),
                b.node("ReduceProd", Map.of("keepdims", 1L), shape));
        String flat = b.node("ScatterElements", Map.of("axis", 0L), zeros, position, values);
        b.node("Reshape", List.of(flat, shape), Map.of(), "weight");
        return OnnxMl.FunctionProto.newBuilder().setName(OP).setDomain(DOMAIN)
                .addInput("bits").addInput("codebook").addInput("high").addOutput("weight")
                .addAllAttribute(List.of("entries", "width", "code_range", "shape"))
                .addAllNode(b.nodes)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setDocString("A packed weight: see Squeeze's docs/export.md")
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

        /** ScatterElements along axis 0 that adds what lands on the same index (opset 16). */
        String scatterAdd(String data, String indices, String updates) {
            String out = "t" + count++;
            nodes.add(OnnxMl.NodeProto.newBuilder().setOpType("ScatterElements").addInput(data).addInput(indices)
                    .addInput(updates).addOutput(out).addAttribute(OnnxMl.AttributeProto.newBuilder().setName("reduction")
                            .setType(AttributeType.STRING).setS(ByteString.copyFromUtf8("add"))).build());
            return out;
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
