package dev.squeeze.compress.prune;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Which units or filters structured pruning keeps, chosen by {@link StructuredPruning#select} and carried
 * out by {@link StructuredPruning#apply}. It lists every dense and convolution layer of the network in order,
 * pruned or not, so it also describes the shape of the smaller network.
 *
 * @param structure  what was pruned
 * @param fraction   the share of units (or filters) dropped from each pruned layer
 * @param inputWidth inputs of the first dense or convolution layer (features, or channels for a convolution)
 * @param layers     the dense and convolution layers, in network order
 */
public record StructuredSelection(Structure structure, double fraction, int inputWidth, List<LayerKeep> layers) {

    /**
     * A copy of {@code kept} after checking it holds at least one index and only ascending, distinct indices below
     * {@code width}: what a layer (or a graph's channel group) keeps.
     *
     * @param owner  who keeps them, for the messages: {@code layer 3}
     * @param unit   what one index is: {@code unit}, {@code channel}
     * @param plural what the indices are called in the message: {@code indices}, {@code channels}
     */
    static int[] checkedKept(int[] kept, int width, String owner, String unit, String plural) {
        if (kept.length == 0) throw new IllegalArgumentException(owner + " must keep at least one " + unit);
        for (int j = 0; j < kept.length; j++) {
            if (kept[j] < 0 || kept[j] >= width || (j > 0 && kept[j] <= kept[j - 1])) {
                throw new IllegalArgumentException(owner + ": kept " + plural + " must be ascending, distinct and below "
                        + width + ", got " + Arrays.toString(kept));
            }
        }
        return kept.clone();
    }

    /**
     * One dense or convolution layer.
     *
     * @param index layer index in the network ({@code getLayer(index)}, parameter keys {@code index_W})
     * @param width units (dense) or filters (convolution) in the source network
     * @param kept  the source indices of the units or filters kept, ascending; all of {@code 0..width-1} when
     *              the layer is not pruned
     */
    public record LayerKeep(int index, int width, int[] kept) {
        public LayerKeep {
            kept = checkedKept(kept, width, "layer " + index, "unit", "indices");
        }

        /** Whether any unit or filter of this layer is dropped. */
        public boolean pruned() {
            return kept.length < width;
        }

        @Override
        public int[] kept() {
            return kept.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof LayerKeep k && k.index == index && k.width == width && Arrays.equals(k.kept, kept);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * index + width) + Arrays.hashCode(kept);
        }

        @Override
        public String toString() {
            return "LayerKeep[index=" + index + ", width=" + width + ", kept=" + kept.length + "]";
        }
    }

    public StructuredSelection {
        layers = List.copyOf(layers);
        for (int i = 1; i < layers.size(); i++) {
            if (layers.get(i).index() <= layers.get(i - 1).index()) {
                throw new IllegalArgumentException("layers must be in network order");
            }
        }
    }

    /** The layer with network index {@code layerIndex}, or null when it is not a dense or convolution layer. */
    public LayerKeep layer(int layerIndex) {
        for (LayerKeep k : layers) if (k.index() == layerIndex) return k;
        return null;
    }

    /** The source indices kept in layer {@code layerIndex}, ascending; null when it is not listed. */
    public int[] kept(int layerIndex) {
        LayerKeep k = layer(layerIndex);
        return k == null ? null : k.kept();
    }

    /** The input width followed by each listed layer's width after pruning, e.g. {@code 784, 240, 80, 10}. */
    public int[] widths() {
        int[] w = new int[layers.size() + 1];
        w[0] = inputWidth;
        for (int i = 0; i < layers.size(); i++) w[i + 1] = layers.get(i).kept.length;
        return w;
    }

    /** The widths after pruning joined by dashes, e.g. {@code 784-240-80-10} (channels for convolutions). */
    public String describe() {
        return Arrays.stream(widths()).mapToObj(Integer::toString).collect(Collectors.joining("-"));
    }
}
