package dev.squeeze.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.io.IOException;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The measurement half of {@code bench/onnx-quantize-bge.sh}: bge-small-en-v1.5 in float, quantized by ONNX Runtime's
 * Python quantizer (the peer) and by Squeeze, side by side in one JVM, one ONNX Runtime, the same threads.
 * <pre>
 *   BgeBench sentences OUT.txt                                 real English sentences, one a line
 *   BgeBench requests TOKENIZER.json SENTENCES.txt MODEL DIR     one inference request body per sentence
 *   BgeBench body TOKENIZER.json SENTENCES.txt FILE               one request body of 128 tokens (batch 1)
 *   BgeBench measure TOKENIZER.json SENTENCES.txt THREADS,... NAME=MODEL...   (the first model is the reference)
 * </pre>
 * Sentences are split from the license texts in /usr/share/common-licenses (every Debian machine has them), distinct,
 * in a fixed order. Tokens come from the model jar's own {@code tokenizer.json} through Hugging Face's tokenizers
 * library (DJL's binding), so they are what the model was trained on, not a re-implementation.
 */
public final class BgeBench {
    private static final Path LICENSES = Path.of("/usr/share/common-licenses");
    private static final List<String> LICENSE_FILES = List.of("GPL-3", "Apache-2.0", "GPL-2", "LGPL-2.1", "MPL-2.0",
            "GFDL-1.3", "Artistic", "CC0-1.0", "MPL-1.1", "LGPL-3", "BSD");
    private static final Pattern PARAGRAPH = Pattern.compile("\\n\\s*\\n");
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+(?=[A-Z\"(])");
    private static final int SEQUENCE = 128;
    private static final int BATCH = 32;

    private BgeBench() {
    }

    public static void main(String[] args) throws Exception {
        switch (args.length == 0 ? "" : args[0]) {
            case "sentences" -> Files.write(Path.of(args[1]), sentences(), StandardCharsets.UTF_8);
            case "requests" -> requests(tokenizer(Path.of(args[1])), read(Path.of(args[2])), Path.of(args[3]), Path.of(args[4]));
            case "body" -> body(tokenizer(Path.of(args[1])), read(Path.of(args[2])), Path.of(args[3]));
            case "measure" -> {
                Map<String, Path> models = new LinkedHashMap<>();
                for (int i = 4; i < args.length; i++) {
                    String[] kv = args[i].split("=", 2);
                    models.put(kv[0], Path.of(kv[1]));
                }
                int[] threads = Arrays.stream(args[3].split(",")).mapToInt(Integer::parseInt).toArray();
                measure(tokenizer(Path.of(args[1])), read(Path.of(args[2])), threads, models);
            }
            default -> {
                System.err.println("usage: BgeBench sentences OUT | requests TOKENIZER SENTENCES MODEL DIR | "
                        + "body TOKENIZER SENTENCES FILE | measure TOKENIZER SENTENCES THREADS NAME=MODEL...");
                System.exit(2);
            }
        }
    }

    /** Distinct sentences of 5 to 80 words from the license texts, in file and text order. */
    static List<String> sentences() throws IOException {
        Set<String> out = new LinkedHashSet<>();
        for (String file : LICENSE_FILES) {
            String text = Files.readString(LICENSES.resolve(file), StandardCharsets.UTF_8);
            for (String paragraph : PARAGRAPH.split(text)) {
                String flat = String.join(" ", paragraph.trim().split("\\s+"));
                for (String s : SENTENCE_END.split(flat)) {
                    int words = s.split(" ").length;
                    if (words >= 5 && words <= 80 && s.chars().anyMatch(Character::isLowerCase)) out.add(s);
                }
            }
        }
        return new ArrayList<>(out);
    }

    private static List<String> read(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(s -> !s.isBlank()).toList();
    }

    private static HuggingFaceTokenizer tokenizer(Path json) throws IOException {
        HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(json,
                Map.of("addSpecialTokens", "true", "truncation", "true", "maxLength", "512", "padding", "false"));
        // The tokenizer as BERT's: lower-cased WordPiece between [CLS] (101) and [SEP] (102).
        long[] ids = t.encode("Hello, World!").getIds();
        if (!Arrays.equals(ids, new long[] {101, 7592, 1010, 2088, 999, 102})) {
            throw new IllegalStateException("unexpected tokens for 'Hello, World!': " + Arrays.toString(ids));
        }
        return t;
    }

    /** One Open Inference Protocol request body per sentence (batch 1, no padding), for {@code quantize --inputs}. */
    private static void requests(HuggingFaceTokenizer tok, List<String> sentences, Path model, Path dir) throws Exception {
        Set<String> names;
        try (OrtEnvironment env = OrtEnvironment.getEnvironment();
             OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
            names = s.getInputNames();
        }
        Files.createDirectories(dir);
        for (int i = 0; i < sentences.size(); i++) {
            Encoding e = tok.encode(sentences.get(i));
            Map<String, long[]> tensors = Map.of("input_ids", e.getIds(), "attention_mask", e.getAttentionMask(),
                    "token_type_ids", e.getTypeIds());
            StringBuilder b = new StringBuilder("{\"inputs\": [");
            String sep = "";
            for (String name : names) {
                long[] data = tensors.get(name);
                if (data == null) throw new IllegalStateException("the model has an input '" + name + "' a BERT tokenizer does not give");
                b.append(sep).append("{\"name\": \"").append(name).append("\", \"shape\": [1, ").append(data.length)
                        .append("], \"datatype\": \"INT64\", \"data\": ").append(Arrays.toString(data)).append('}');
                sep = ", ";
            }
            Files.writeString(dir.resolve(String.format(Locale.ROOT, "%04d.json", i)), b.append("]}\n"));
        }
    }

    /** The three BERT inputs of a batch of equal-length sequences. */
    private record Batch(long[][] ids, long[][] mask, long[][] types) {
        static Batch of(List<long[]> sequences) {
            int n = sequences.size();
            long[][] ids = sequences.toArray(new long[0][]);
            long[][] mask = new long[n][];
            long[][] types = new long[n][];
            for (int i = 0; i < n; i++) {
                mask[i] = new long[ids[i].length];
                Arrays.fill(mask[i], 1);
                types[i] = new long[ids[i].length];
            }
            return new Batch(ids, mask, types);
        }

        Map<String, OnnxTensor> tensors(OrtEnvironment env, Set<String> names) throws OrtException {
            Map<String, OnnxTensor> m = new LinkedHashMap<>();
            if (names.contains("input_ids")) m.put("input_ids", tensor(env, ids));
            if (names.contains("attention_mask")) m.put("attention_mask", tensor(env, mask));
            if (names.contains("token_type_ids")) m.put("token_type_ids", tensor(env, types));
            return m;
        }

        private static OnnxTensor tensor(OrtEnvironment env, long[][] rows) throws OrtException {
            LongBuffer b = LongBuffer.allocate(rows.length * rows[0].length);
            for (long[] r : rows) b.put(r);
            return OnnxTensor.createTensor(env, b.flip(), new long[] {rows.length, rows[0].length});
        }
    }

    /** A model's session and the name of its hidden-state output (the float model's first output). */
    private record Model(String name, Path file, OrtSession session, String output) implements AutoCloseable {
        /** Runs the batch; returns the output when {@code keep}, else null (timing only). */
        float[][][] run(OrtEnvironment env, Batch batch, boolean keep) throws OrtException {
            Map<String, OnnxTensor> in = batch.tensors(env, session.getInputNames());
            try (OrtSession.Result r = session.run(in, Set.of(output))) {
                return keep ? (float[][][]) r.get(output).orElseThrow().getValue() : null;
            } finally {
                for (OnnxTensor t : in.values()) t.close();
            }
        }

        @Override
        public void close() throws OrtException {
            session.close();
        }
    }

    private static List<Model> open(OrtEnvironment env, Map<String, Path> files, int threads) throws OrtException {
        List<Model> models = new ArrayList<>();
        String output = null;
        for (Map.Entry<String, Path> f : files.entrySet()) {
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            OrtSession s = env.createSession(f.getValue().toString(), o);
            if (output == null) output = s.getOutputNames().iterator().next();
            if (!s.getOutputNames().contains(output)) {
                throw new IllegalStateException(f.getKey() + " has no output '" + output + "': " + s.getOutputNames());
            }
            models.add(new Model(f.getKey(), f.getValue(), s, output));
        }
        return models;
    }

    private static void measure(HuggingFaceTokenizer tok, List<String> sentences, int[] threads, Map<String, Path> files)
            throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        System.out.printf(Locale.ROOT, "ONNX Runtime %s (Java), %d sentences, %s, %d cores, %s%n", env.getVersion(),
                sentences.size(), LocalDate.now(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));

        List<long[]> windows = windows(tok, sentences, BATCH + 1);
        Batch one = Batch.of(windows.subList(0, 1));
        Batch many = Batch.of(windows.subList(1, BATCH + 1));

        // Accuracy: every sentence alone (no padding), CLS pooling (the model card's, and langchain4j's) and mean
        // pooling over the attention mask, each L2-normalised, against the first (float) model.
        List<Model> ms = open(env, files, 1);
        int n = ms.size();
        double[][] sum = new double[2][n];
        double[][] worst = new double[2][n];
        int[][] worstAt = new int[2][n];
        for (double[] w : worst) Arrays.fill(w, 1);
        int[] tokens = new int[sentences.size()];
        for (int i = 0; i < sentences.size(); i++) {
            Encoding e = tok.encode(sentences.get(i));
            tokens[i] = e.getIds().length;
            Batch b = new Batch(new long[][] {e.getIds()}, new long[][] {e.getAttentionMask()}, new long[][] {e.getTypeIds()});
            float[][][] ref = ms.get(0).run(env, b, true);
            double[][] refPooled = {cls(ref[0]), mean(ref[0], e.getAttentionMask())};
            for (int m = 1; m < n; m++) {
                float[][][] out = ms.get(m).run(env, b, true);
                double[][] pooled = {cls(out[0]), mean(out[0], e.getAttentionMask())};
                for (int p = 0; p < 2; p++) {
                    double c = dot(refPooled[p], pooled[p]);
                    sum[p][m] += c;
                    if (c < worst[p][m]) {
                        worst[p][m] = c;
                        worstAt[p][m] = i;
                    }
                }
            }
        }
        for (Model m : ms) m.close();
        int[] sortedTokens = tokens.clone();
        Arrays.sort(sortedTokens);
        System.out.printf(Locale.ROOT, "sentences: %d to %d tokens (median %d) with [CLS] and [SEP]%n", sortedTokens[0],
                sortedTokens[sortedTokens.length - 1], sortedTokens[sortedTokens.length / 2]);
        System.out.println();
        System.out.println("| model | file | bytes | embedding cosine vs float, CLS pooling: mean (worst) | mean pooling: mean (worst) |");
        System.out.println("|---|---|---:|---:|---:|");
        int m0 = 0;
        for (Map.Entry<String, Path> f : files.entrySet()) {
            String cos = m0 == 0 ? "1 (reference)" : String.format(Locale.ROOT, "%.5f (%.5f)", sum[0][m0] / sentences.size(), worst[0][m0]);
            String mean = m0 == 0 ? "1 (reference)" : String.format(Locale.ROOT, "%.5f (%.5f)", sum[1][m0] / sentences.size(), worst[1][m0]);
            System.out.printf(Locale.ROOT, "| %s | %s | %,d | %s | %s |%n", f.getKey(), f.getValue().getFileName(),
                    Files.size(f.getValue()), cos, mean);
            m0++;
        }
        for (int m = 1; m < n; m++) {
            System.err.printf(Locale.ROOT, "%s: worst CLS cosine on sentence %d: %s%n", ms.get(m).name(), worstAt[0][m],
                    sentences.get(worstAt[0][m]));
        }

        // Speed: models in rounds (order rotated each round) so that load from other work falls on all of them alike.
        System.out.println();
        System.out.println("| model | intra-op threads | batch 1 × 128: p50 (p90) | batch " + BATCH + " × 128: sequences/s, median of 5 windows (min-max) |");
        System.out.println("|---|---:|---:|---:|");
        for (int t : threads) {
            List<Model> sessions = open(env, files, t);
            List<List<Long>> lat = new ArrayList<>();
            for (Model m : sessions) {
                lat.add(new ArrayList<>());
                for (int w = 0; w < 10; w++) m.run(env, one, false);
                m.run(env, many, false);
            }
            int rounds = 10;
            int perRound = 20;
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < n; k++) {
                    int m = (k + r) % n;
                    for (int c = 0; c < perRound; c++) {
                        long t0 = System.nanoTime();
                        sessions.get(m).run(env, one, false);
                        lat.get(m).add(System.nanoTime() - t0);
                    }
                }
            }
            int windowsCount = 5;
            int callsPerWindow = 2;
            double[][] rate = new double[n][windowsCount];
            for (int w = 0; w < windowsCount; w++) {
                for (int k = 0; k < n; k++) {
                    int m = (k + w) % n;
                    long t0 = System.nanoTime();
                    for (int c = 0; c < callsPerWindow; c++) sessions.get(m).run(env, many, false);
                    rate[m][w] = callsPerWindow * BATCH / ((System.nanoTime() - t0) / 1e9);
                }
            }
            for (int m = 0; m < n; m++) {
                long[] l = lat.get(m).stream().mapToLong(Long::longValue).sorted().toArray();
                double[] r = rate[m].clone();
                Arrays.sort(r);
                System.out.printf(Locale.ROOT, "| %s | %d | %.2f ms (%.2f ms) | %.1f (%.1f-%.1f) |%n", sessions.get(m).name(), t,
                        l[l.length / 2] / 1e6, l[(int) (l.length * 0.9)] / 1e6, r[windowsCount / 2], r[0], r[windowsCount - 1]);
            }
            for (Model m : sessions) m.close();
        }
    }

    /**
     * Sequences of exactly 128 tokens of real text: the sentences' word pieces end to end, cut into windows of 126,
     * each between [CLS] and [SEP].
     */
    private static List<long[]> windows(HuggingFaceTokenizer tok, List<String> sentences, int count) {
        List<Long> stream = new ArrayList<>();
        for (String s : sentences) for (long id : tok.encode(s, false, false).getIds()) stream.add(id);
        List<long[]> windows = new ArrayList<>();
        for (int start = 0; start + SEQUENCE - 2 <= stream.size() && windows.size() < count; start += SEQUENCE - 2) {
            long[] w = new long[SEQUENCE];
            w[0] = 101;
            for (int j = 0; j < SEQUENCE - 2; j++) w[j + 1] = stream.get(start + j);
            w[SEQUENCE - 1] = 102;
            windows.add(w);
        }
        if (windows.size() < count) throw new IllegalStateException("too little text for " + count + " windows of " + SEQUENCE);
        return windows;
    }

    /** The request body of the batch-1 latency measurement (the first 128-token window), for {@code bench --url --body}. */
    private static void body(HuggingFaceTokenizer tok, List<String> sentences, Path file) throws IOException {
        long[] ids = windows(tok, sentences, 1).get(0);
        long[] ones = new long[SEQUENCE];
        Arrays.fill(ones, 1);
        String shape = "\"shape\": [1, " + SEQUENCE + "], \"datatype\": \"INT64\", \"data\": ";
        Files.writeString(file, "{\"inputs\": [{\"name\": \"input_ids\", " + shape + Arrays.toString(ids)
                + "}, {\"name\": \"attention_mask\", " + shape + Arrays.toString(ones)
                + "}, {\"name\": \"token_type_ids\", " + shape + Arrays.toString(new long[SEQUENCE]) + "}]}\n");
    }

    private static double[] cls(float[][] hidden) {
        double[] v = new double[hidden[0].length];
        for (int j = 0; j < v.length; j++) v[j] = hidden[0][j];
        return normalised(v);
    }

    private static double[] mean(float[][] hidden, long[] mask) {
        double[] v = new double[hidden[0].length];
        int count = 0;
        for (int i = 0; i < hidden.length; i++) {
            if (mask[i] == 0) continue;
            count++;
            for (int j = 0; j < v.length; j++) v[j] += hidden[i][j];
        }
        for (int j = 0; j < v.length; j++) v[j] /= count;
        return normalised(v);
    }

    private static double[] normalised(double[] v) {
        double norm = Math.sqrt(dot(v, v));
        for (int j = 0; j < v.length; j++) v[j] /= norm;
        return v;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int j = 0; j < a.length; j++) s += a[j] * b[j];
        return s;
    }
}
