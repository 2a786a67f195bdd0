package dev.squeeze.cli;

import dev.squeeze.compress.train.EpochMetrics;
import dev.squeeze.compress.train.TrainingMonitor;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * Training progress on stderr: on a terminal, a progress bar per epoch with the loss and samples/s;
 * elsewhere (CI, a pipe) one line per epoch so logs stay readable.
 */
final class ConsoleTrainingMonitor implements TrainingMonitor, AutoCloseable {
    private final PrintWriter err;
    private final PrintStream barStream;
    private final boolean interactive;
    private ProgressBar bar;
    private double lastLoss;

    /**
     * @param barStream where the progress bar draws (System.err on a terminal), or null for epoch lines only
     */
    ConsoleTrainingMonitor(PrintWriter err, PrintStream barStream) {
        this.err = err;
        this.barStream = barStream;
        this.interactive = barStream != null;
    }

    @Override
    public void message(String line) {
        closeBar();
        err.println(line);
        err.flush();
    }

    @Override
    public void epochStarted(int epoch, int maxEpochs, int steps) {
        if (!interactive) return;
        bar = new ProgressBarBuilder()
                .setTaskName(String.format(Locale.ROOT, "epoch %d/%d", epoch, maxEpochs))
                .setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(barStream))
                .clearDisplayOnFinish()
                .build();
    }

    @Override
    public void stepDone(int step, double loss, double samplesPerSecond) {
        lastLoss = loss;
        if (bar != null) {
            bar.stepTo(step);
            bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f  %,.0f samples/s", loss, samplesPerSecond));
        }
    }

    @Override
    public void epochFinished(EpochMetrics m) {
        closeBar();
        err.println(String.format(Locale.ROOT,
                "epoch %3d  train loss %.4f acc %6.2f%%  val loss %.4f acc %6.2f%%  %5.1f s  %,6.0f samples/s%s",
                m.epoch(), m.trainLoss(), 100 * m.trainAccuracy(), m.validationLoss(), 100 * m.validationAccuracy(),
                m.seconds(), m.samplesPerSecond(), m.best() ? "  * kept" : ""));
        err.flush();
    }

    private void closeBar() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    @Override
    public void close() {
        closeBar();
    }
}
