package dev.squeeze.compress.report;

import dev.squeeze.core.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/** A PNG line chart of one or more named series, written atomically. */
public final class LineChart {
    private LineChart() {
    }

    /**
     * @param series name to {x[], y[]}; points with a non-finite y are left out (a chart cannot draw NaN)
     * @param markers draw a marker at every point (for a few points per series) or not (for long curves)
     */
    public static void save(Path png, String title, String xName, String yName, boolean logX,
                            Map<String, double[][]> series, boolean markers) {
        // Charts draw text: AWT must not look for a display.
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(760).height(440).title(title).xAxisTitle(xName).yAxisTitle(yName).build();
        chart.getStyler().setLegendVisible(series.size() > 1);
        chart.getStyler().setXAxisLogarithmic(logX);
        chart.getStyler().setXAxisLogarithmicDecadeOnly(false);   // ticks between decades: 20, 50, ... not just 10, 100
        series.forEach((name, xy) -> {
            int n = 0;
            double[] xs = new double[xy[0].length];
            double[] ys = new double[xy[1].length];
            for (int i = 0; i < xy[0].length; i++) {
                if (Double.isFinite(xy[1][i])) {
                    xs[n] = xy[0][i];
                    ys[n++] = xy[1][i];
                }
            }
            if (n == 0) return;
            var s = chart.addSeries(name, Arrays.copyOf(xs, n), Arrays.copyOf(ys, n));
            if (!markers) s.setMarker(SeriesMarkers.NONE);
        });
        AtomicFiles.write(png, file -> Files.write(file, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG)));
    }
}
