package dev.squeeze.compress.doctor;

import dev.squeeze.compress.artifacts.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.nio.file.Path;
import java.util.Locale;

/** A curve a check measured, saved as CSV (the numbers) and PNG (to look at). */
record Curve(String title, String xName, String yName, double[] x, double[] y, boolean logX) {

    /** Writes {@code <name>.csv} and {@code <name>.png} into {@code dir} (atomically) and returns the PNG. */
    Path save(Path dir, String name) {
        StringBuilder csv = new StringBuilder(xName + "," + yName + "\n");
        for (int i = 0; i < x.length; i++) csv.append(String.format(Locale.ROOT, "%s,%s%n", x[i], y[i]));
        AtomicFiles.writeString(dir.resolve(name + ".csv"), csv.toString());

        // Charts draw text: AWT must not look for a display.
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(720).height(420).title(title).xAxisTitle(xName).yAxisTitle(yName).build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setXAxisLogarithmic(logX);
        int n = 0;
        while (n < y.length && Double.isFinite(y[n])) n++;   // a chart cannot draw NaN; the CSV keeps it
        double[] xs = java.util.Arrays.copyOf(x, Math.max(n, 1));
        double[] ys = java.util.Arrays.copyOf(y, Math.max(n, 1));
        if (n == 0) ys[0] = 0;
        chart.addSeries(yName, xs, ys).setMarker(SeriesMarkers.NONE);
        Path png = dir.resolve(name + ".png");
        AtomicFiles.write(png, file -> java.nio.file.Files.write(file,
                BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG)));
        return png;
    }
}
