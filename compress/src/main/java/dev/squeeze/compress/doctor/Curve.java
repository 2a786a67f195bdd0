package dev.squeeze.compress.doctor;

import dev.squeeze.core.AtomicFiles;
import dev.squeeze.compress.report.LineChart;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** A curve a check measured, saved as CSV (the numbers) and PNG (to look at). */
record Curve(String title, String xName, String yName, double[] x, double[] y, boolean logX) {

    /** Writes {@code <name>.csv} and {@code <name>.png} into {@code dir} (atomically) and returns the PNG. */
    Path save(Path dir, String name) {
        StringBuilder csv = new StringBuilder(xName + "," + yName + "\n");
        for (int i = 0; i < x.length; i++) csv.append(String.format(Locale.ROOT, "%s,%s%n", x[i], y[i]));
        AtomicFiles.writeString(dir.resolve(name + ".csv"), csv.toString());

        Path png = dir.resolve(name + ".png");
        LineChart.save(png, title, xName, yName, logX, Map.of(yName, new double[][]{x, y}), false);
        return png;
    }
}
