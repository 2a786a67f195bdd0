package dev.squeeze.serve.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.List;

/**
 * The {@code /v1/models/{name}/predict} convenience for image classifiers: a PNG (or any image ImageIO reads) or a
 * JSON array of raw pixel values in, the label and class probabilities out. The model must have one FP32 input of
 * shape [batch, C, H, W] (C = 1 grey or 3 RGB; images are resized to H x W) or [batch, N] (N = H * W grey pixels of a
 * square image). Values are raw 0-255: Squeeze exports normalize inside the graph.
 */
public final class ImagePrediction {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ImagePrediction() {
    }

    /** Checks that {@code spec} is a model this endpoint can feed, and says why not otherwise. */
    public static TensorSpec imageInput(ModelSpec spec) {
        if (spec.inputs().size() != 1 || spec.inputs().get(0).type() != TensorType.FP32) {
            throw new BadRequestException("predict needs a model with one FP32 input; this one has " + spec.inputs()
                    + "; use /v2/models/{name}/infer");
        }
        TensorSpec in = spec.inputs().get(0);
        long[] s = in.shape();
        boolean chw = s.length == 4 && (s[1] == 1 || s[1] == 3) && s[2] > 0 && s[3] > 0;
        boolean flat = s.length == 2 && s[1] > 0 && isSquare(s[1]);
        if (!chw && !flat) {
            throw new BadRequestException("predict needs an input of shape [batch, 1 or 3, H, W] or [batch, H*W]; this "
                    + "model's is " + in + "; use /v2/models/{name}/infer");
        }
        return in;
    }

    /**
     * The most pixels {@link #fromImage} decodes for a model with this input unless the server sets a limit: generous
     * room above the model's own size (64 x H x W), and at least 4096 x 4096.
     */
    public static long defaultMaxPixels(TensorSpec input) {
        long[] s = input.shape();
        long pixels = s.length == 4 ? s[2] * s[3] : s[1];
        return Math.max(4096L * 4096L, 64 * pixels);
    }

    /**
     * One example from an image (PNG, JPEG, ...), resized to the input's height and width. The image's width and
     * height are read from its header first: one of more than {@code maxPixels} pixels is refused before it is
     * decoded (a small PNG can declare 30000 x 30000 pixels, gigabytes once decoded).
     */
    public static HostTensor fromImage(InputStream body, TensorSpec input, long maxPixels) {
        BufferedImage image = null;
        // A memory cache, not ImageIO's default file cache: the body is already in memory.
        try (ImageInputStream in = new MemoryCacheImageInputStream(body)) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (readers.hasNext()) {
                ImageReader reader = readers.next();
                try {
                    reader.setInput(in, true, true);
                    long width = reader.getWidth(0);
                    long height = reader.getHeight(0);
                    if (width * height > maxPixels) {
                        throw new BadRequestException("the image is " + width + "x" + height + " (" + width * height
                                + " pixels), over the limit of " + maxPixels + " pixels (squeeze.serve.max-image-pixels); "
                                + "send it resized to the model's input, " + describe(input));
                    }
                    image = reader.read(0);
                } finally {
                    reader.dispose();
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof BadRequestException bad) throw bad;
            image = null;
        }
        if (image == null) throw new BadRequestException("the body is not an image ImageIO can read (send a PNG)");
        long[] s = input.shape();
        int channels = s.length == 4 ? (int) s[1] : 1;
        int h = s.length == 4 ? (int) s[2] : (int) Math.round(Math.sqrt(s[1]));
        int w = s.length == 4 ? (int) s[3] : h;
        // Nearest-neighbour resampling on the stored samples: a grey PNG's values reach the model unchanged (drawing
        // it into an RGB image would apply a colour-space conversion and shift them).
        var raster = image.getRaster();
        boolean grey = raster.getNumBands() <= 2 && image.getColorModel().getColorSpace().getNumComponents() == 1;
        float[] data = new float[channels * h * w];
        for (int y = 0; y < h; y++) {
            int sy = (int) ((long) y * image.getHeight() / h);
            for (int x = 0; x < w; x++) {
                int sx = (int) ((long) x * image.getWidth() / w);
                float r, g, b;
                if (grey) {
                    int max = (1 << image.getColorModel().getComponentSize(0)) - 1;
                    r = g = b = Math.round(raster.getSample(sx, sy, 0) * 255f / max);
                } else {
                    int rgb = image.getRGB(sx, sy);
                    r = (rgb >> 16) & 0xff;
                    g = (rgb >> 8) & 0xff;
                    b = rgb & 0xff;
                }
                if (channels == 1) {
                    data[y * w + x] = grey ? r : Math.round(0.299f * r + 0.587f * g + 0.114f * b);
                } else {
                    data[y * w + x] = r;
                    data[h * w + y * w + x] = g;
                    data[2 * h * w + y * w + x] = b;
                }
            }
        }
        return new HostTensor(input.name(), TensorType.FP32, batchOfOne(s), data);
    }

    /** One example from a JSON array of raw values ({@code [..]} or {@code {"pixels": [..]}}), flat or nested. */
    public static HostTensor fromJson(InputStream body, TensorSpec input) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            throw new BadRequestException("the body is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        JsonNode pixels = root != null && root.isObject() ? root.get("pixels") : root;
        if (pixels == null || !pixels.isArray()) {
            throw new BadRequestException("send an image (Content-Type: image/png) or JSON: an array of pixel values, or "
                    + "{\"pixels\": [...]}");
        }
        long[] shape = batchOfOne(input.shape());
        long n = HostTensor.elementCount(shape);
        float[] data = new float[(int) n];
        int[] at = {0};
        flatten(pixels, data, at, n);
        if (at[0] != n) throw new BadRequestException("expected " + n + " pixel values for " + input + ", got " + at[0]);
        return new HostTensor(input.name(), TensorType.FP32, shape, data);
    }

    private static void flatten(JsonNode node, float[] out, int[] at, long n) {
        for (JsonNode v : node) {
            if (v.isArray()) {
                flatten(v, out, at, n);
            } else {
                if (!v.isNumber()) throw new BadRequestException("pixel " + at[0] + " is " + v + ", not a number");
                if (at[0] >= n) throw new BadRequestException("more than the " + n + " pixel values the model takes");
                out[at[0]++] = (float) v.asDouble();
            }
        }
    }

    /**
     * The answer: the most probable class (named from the ONNX metadata's {@code classes} when present) and every
     * class's probability, from the output named {@code probabilities} when there is one, else the first.
     */
    public static byte[] response(String model, long version, List<HostTensor> outputs, List<String> classNames) {
        HostTensor out = outputs.stream().filter(o -> o.name().equals("probabilities")).findFirst().orElse(outputs.get(0));
        if (out.type() != TensorType.FP32) throw new BadRequestException("predict needs an FP32 output; use /v2 infer");
        float[] p = (float[]) out.data();
        int best = 0;
        for (int i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
        ObjectNode root = JSON.createObjectNode();
        root.put("model_name", model);
        root.put("model_version", Long.toString(version));
        root.put("class_index", best);
        root.put("label", name(classNames, best));
        root.put("output", out.name());
        ArrayNode all = root.putArray("probabilities");
        for (int i = 0; i < p.length; i++) all.addObject().put("label", name(classNames, i)).put("probability", p[i]);
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The class names in a Squeeze export's metadata ({@code classes}, a JSON array), or an empty list. */
    public static List<String> classNames(java.util.Map<String, String> metadata) {
        String classes = metadata.get("classes");
        if (classes == null) return List.of();
        try {
            return List.of(JSON.readValue(classes, String[].class));
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String name(List<String> classNames, int i) {
        return i < classNames.size() ? classNames.get(i) : Integer.toString(i);
    }

    private static long[] batchOfOne(long[] shape) {
        long[] s = shape.clone();
        s[0] = 1;
        return s;
    }

    /** "WxH", the image size an input that {@link #imageInput} accepts takes. */
    private static String describe(TensorSpec input) {
        long[] s = input.shape();
        long h = s.length == 4 ? s[2] : Math.round(Math.sqrt(s[1]));
        long w = s.length == 4 ? s[3] : h;
        return w + "x" + h;
    }

    private static boolean isSquare(long n) {
        long r = Math.round(Math.sqrt(n));
        return r * r == n;
    }
}
