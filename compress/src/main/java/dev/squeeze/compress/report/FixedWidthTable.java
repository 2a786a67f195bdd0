package dev.squeeze.compress.report;

import java.util.List;

/** Text tables for a terminal: columns two spaces apart, each as wide as its widest cell, trailing blanks trimmed. */
public final class FixedWidthTable {
    private FixedWidthTable() {
    }

    /**
     * @param lines        the header (if any) and the rows, each with one cell per column
     * @param rightAligned per column: numbers read best right-aligned
     */
    public static String format(List<String[]> lines, boolean[] rightAligned) {
        int[] widths = new int[rightAligned.length];
        for (String[] line : lines) {
            for (int c = 0; c < line.length; c++) widths[c] = Math.max(widths[c], line[c].length());
        }
        StringBuilder out = new StringBuilder();
        for (String[] line : lines) {
            StringBuilder text = new StringBuilder();
            for (int c = 0; c < line.length; c++) {
                if (c > 0) text.append("  ");
                String pad = " ".repeat(widths[c] - line[c].length());
                text.append(rightAligned[c] ? pad + line[c] : line[c] + pad);
            }
            out.append(text.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }
}
