package dev.squeeze.compress.eval;

import java.util.List;
import java.util.Locale;

/**
 * How a network did on a labeled set.
 *
 * @param confusion {@code confusion[actual][predicted]} counts
 */
public record Evaluation(int examples, double loss, double accuracy, int[][] confusion, List<String> classNames) {

    /** Share of each class's examples classified right (NaN for a class with no examples). */
    public double[] perClassAccuracy() {
        double[] acc = new double[confusion.length];
        for (int c = 0; c < confusion.length; c++) {
            int total = 0;
            for (int v : confusion[c]) total += v;
            acc[c] = total == 0 ? Double.NaN : (double) confusion[c][c] / total;
        }
        return acc;
    }

    /** Accuracy, per-class accuracy and the confusion matrix as text for a terminal. */
    public String format() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "accuracy %.2f%% (%d examples), loss %.4f%n%n",
                100 * accuracy, examples, loss));
        int nameWidth = Math.max(5, classNames.stream().mapToInt(String::length).max().orElse(5));
        out.append(String.format(Locale.ROOT, "%-" + nameWidth + "s  %8s%n", "class", "accuracy"));
        double[] perClass = perClassAccuracy();
        for (int c = 0; c < perClass.length; c++) {
            out.append(String.format(Locale.ROOT, "%-" + nameWidth + "s  %7.2f%%%n", classNames.get(c), 100 * perClass[c]));
        }
        out.append(String.format(Locale.ROOT, "%nconfusion matrix (rows: actual, columns: predicted)%n"));
        int cell = 5;
        for (int[] row : confusion) for (int v : row) cell = Math.max(cell, Integer.toString(v).length() + 1);
        out.append(" ".repeat(nameWidth));
        for (int c = 0; c < confusion.length; c++) out.append(String.format(Locale.ROOT, "%" + cell + "d", c));
        out.append('\n');
        for (int a = 0; a < confusion.length; a++) {
            out.append(String.format(Locale.ROOT, "%-" + nameWidth + "s", a + " " + shorten(classNames.get(a), nameWidth - 2)));
            for (int p = 0; p < confusion.length; p++) out.append(String.format(Locale.ROOT, "%" + cell + "d", confusion[a][p]));
            out.append('\n');
        }
        return out.toString();
    }

    private static String shorten(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }
}
