package dev.squeeze.compress.prune;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Which output channels structured pruning keeps in a ComputationGraph, chosen by {@link GraphChannelPruning#select}
 * and carried out by {@link GraphChannelPruning#apply}: one entry per group of convolutions whose channels are tied
 * (they meet, through their batch norms and activations, in an element-wise vertex such as a residual Add, so channel
 * j of each is the same channel j of the sum and they can only go together). Every convolution of the graph is in
 * exactly one group; a group that is not pruned keeps all its channels.
 *
 * @param fraction the share of channels dropped from each pruned group
 * @param groups   the groups, in the order the graph computes their first convolution
 */
public record GraphChannelSelection(double fraction, List<ChannelGroup> groups) {

    /**
     * Convolutions that produce the same channels.
     *
     * @param convolutions the convolution vertices' names, in the order the graph computes them
     * @param width        their output channels in the source graph
     * @param kept         the source indices of the channels kept, ascending; all of {@code 0..width-1} when the group
     *                     is not pruned
     */
    public record ChannelGroup(List<String> convolutions, int width, int[] kept) {
        public ChannelGroup {
            convolutions = List.copyOf(convolutions);
            if (convolutions.isEmpty()) throw new IllegalArgumentException("a channel group needs a convolution");
            kept = StructuredSelection.checkedKept(kept, width, convolutions.toString(), "channel", "channels");
        }

        /** Whether any channel of this group is dropped. */
        public boolean pruned() {
            return kept.length < width;
        }

        @Override
        public int[] kept() {
            return kept.clone();
        }

        /** The convolutions joined by {@code +} and the channels kept of the width: {@code stem+s1_conv2 2/4}. */
        public String describe() {
            return String.join("+", convolutions) + " " + kept.length + "/" + width;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ChannelGroup g && g.convolutions.equals(convolutions) && g.width == width
                    && Arrays.equals(g.kept, kept);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * convolutions.hashCode() + width) + Arrays.hashCode(kept);
        }

        @Override
        public String toString() {
            return "ChannelGroup[" + describe() + "]";
        }
    }

    public GraphChannelSelection {
        groups = List.copyOf(groups);
    }

    /** The group holding convolution {@code vertex}, or null when no group does. */
    public ChannelGroup group(String vertex) {
        for (ChannelGroup g : groups) if (g.convolutions.contains(vertex)) return g;
        return null;
    }

    /** The source channels convolution {@code vertex} keeps, ascending; null when no group holds it. */
    public int[] kept(String vertex) {
        ChannelGroup g = group(vertex);
        return g == null ? null : g.kept();
    }

    /** Each group's channels kept of its width: {@code stem+s1_conv2 2/4, s1_conv1 2/4, ...}. */
    public String describe() {
        return groups.stream().map(ChannelGroup::describe).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "GraphChannelSelection[fraction=%s, %s]", fraction, describe());
    }
}
