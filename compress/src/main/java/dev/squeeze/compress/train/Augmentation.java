package dev.squeeze.compress.train;

import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Flip;
import dev.squeeze.models.data.Normalization;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * Random changes to training images, made to each training mini-batch as it is cut ({@link ShuffledBatches}) and
 * nowhere else: validation, test and the training-accuracy sample are the images as they are. Each batch's changes
 * are drawn from the run's seed, the epoch and the step, so a resumed run sees exactly the batches it would have.
 *
 * <ul>
 *   <li>{@code flip}: each image mirrored left-right with probability 1/2.
 *   <li>{@code vflip}: each image turned upside down with probability 1/2.
 *   <li>{@code crop}: each image padded with {@link #padding} black pixels on every side and cropped back to its size
 *       at a random offset: a shift of up to that many pixels in each direction, the uncovered edge black (raw
 *       value 0, normalised as the model sees it).
 * </ul>
 *
 * Features arrive normalised ({@link TrainingData}); flips and shifts move values without changing them, so the
 * result is what augmenting the raw image and then normalising would give.
 */
public final class Augmentation {

    /** One kind of change, by the name {@code --augment} takes. */
    public enum Kind {
        FLIP("flip"), VFLIP("vflip"), CROP("crop");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** The flip this change makes, or null for one that makes none. */
        public Flip flip() {
            return switch (this) {
                case FLIP -> Flip.HORIZONTAL;
                case VFLIP -> Flip.VERTICAL;
                case CROP -> null;
            };
        }

        static Kind parse(String name) {
            for (Kind kind : values()) if (kind.label.equals(name.trim().toLowerCase(Locale.ROOT))) return kind;
            throw new BadInputException("--augment takes " + NAMES + ", got '" + name + "'");
        }
    }

    /** The names {@code --augment} takes, as its setting lists them. */
    public static final String NAMES = "flip, vflip, crop";

    private final Set<Kind> kinds;
    private final int channels;
    private final int height;
    private final int width;
    private final int padding;
    private final float[] black;

    private Augmentation(Set<Kind> kinds, int channels, int height, int width, float[] black) {
        this.kinds = kinds;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.padding = padding(height, width);
        this.black = black;
    }

    /**
     * The augmentation {@code names} asks for on examples of {@code inputShape} normalised by {@code normalization},
     * or null when none is asked for. Tables are refused: they have no pixels to flip or shift.
     *
     * @param dataset the dataset's name, for the message refusing a table
     */
    public static Augmentation of(List<String> names, long[] inputShape, Normalization normalization, String dataset) {
        if (names == null || names.isEmpty()) return null;
        Set<Kind> kinds = EnumSet.noneOf(Kind.class);
        for (String name : names) kinds.add(Kind.parse(name));
        if (inputShape.length != 3) {
            throw new BadInputException("--augment flips and shifts images; " + dataset + " is a table of "
                    + inputShape[0] + " features: leave --augment out");
        }
        int plane = (int) (inputShape[1] * inputShape[2]);
        float[] zero = new float[(int) inputShape[0] * plane];
        float[] black = normalization == null ? zero : new float[zero.length];
        if (normalization != null) {
            for (int j = 0; j < zero.length; j++) black[j] = (0f - normalization.mean()[j]) / normalization.std()[j];
        }
        return new Augmentation(Set.copyOf(kinds), (int) inputShape[0], (int) inputShape[1], (int) inputShape[2], black);
    }

    /** The crop's padding: an eighth of the shorter side (3 pixels for 28x28, 4 for 32x32), at least 1. */
    static int padding(int height, int width) {
        return Math.max(1, Math.min(height, width) / 8);
    }

    public Set<Kind> kinds() {
        return kinds;
    }

    /** The flips this augmentation makes. */
    public Set<Flip> flips() {
        Set<Flip> flips = EnumSet.noneOf(Flip.class);
        for (Kind kind : kinds) if (kind.flip() != null) flips.add(kind.flip());
        return flips;
    }

    /** The changes, as {@code --augment} names them, in their order. */
    public String describe() {
        return String.join(",", kinds.stream().sorted().map(Kind::label).toList())
                + (kinds.contains(Kind.CROP) ? " (crop: shifts up to " + padding + " px)" : "");
    }

    /**
     * A changed copy of the mini-batch {@code features} ({@code [n, channels * height * width]}); the input is left
     * as it is. The changes depend only on {@code batchSeed} (the run's seed, epoch and step).
     */
    public INDArray apply(INDArray features, long batchSeed) {
        int n = (int) features.size(0);
        int size = channels * height * width;
        float[] in = features.dup('c').data().asFloat();
        float[] out = new float[in.length];
        Random random = new Random(batchSeed);
        for (int e = 0; e < n; e++) {
            // Every draw is made whether or not its change is asked for, so adding one kind keeps the others' draws.
            boolean mirror = random.nextBoolean();
            boolean upsideDown = random.nextBoolean();
            int dy = random.nextInt(2 * padding + 1) - padding;
            int dx = random.nextInt(2 * padding + 1) - padding;
            if (!kinds.contains(Kind.FLIP)) mirror = false;
            if (!kinds.contains(Kind.VFLIP)) upsideDown = false;
            if (!kinds.contains(Kind.CROP)) {
                dy = 0;
                dx = 0;
            }
            int base = e * size;
            for (int c = 0; c < channels; c++) {
                int plane = c * height * width;
                for (int y = 0; y < height; y++) {
                    int sy = y + dy;                       // the shift: output (y, x) shows source (y + dy, x + dx)
                    for (int x = 0; x < width; x++) {
                        int sx = x + dx;
                        int target = plane + y * width + x;
                        if (sy < 0 || sy >= height || sx < 0 || sx >= width) {
                            out[base + target] = black[target];
                            continue;
                        }
                        int fy = upsideDown ? height - 1 - sy : sy;
                        int fx = mirror ? width - 1 - sx : sx;
                        out[base + target] = in[base + plane + fy * width + fx];
                    }
                }
            }
        }
        return Nd4j.create(out, new long[]{n, size}, 'c');
    }
}
