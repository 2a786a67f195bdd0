package dev.squeeze.compress.train;

/**
 * One epoch's numbers. Train loss is the mean mini-batch loss during the epoch (dropout on); train
 * accuracy is measured after the epoch in inference mode on a fixed sample of the training split.
 *
 * @param best whether this epoch's weights became the kept checkpoint: the best validation accuracy so far, or within
 *             {@code --tolerance} standard errors of it (the column keeps its name in history.csv)
 */
public record EpochMetrics(int epoch, double trainLoss, double trainAccuracy, double validationLoss,
                           double validationAccuracy, double seconds, double samplesPerSecond, boolean best) {

    static final String CSV_HEADER = "epoch,train_loss,train_acc,val_loss,val_acc,seconds,samples_per_s,best";

    String csvRow() {
        return String.format(java.util.Locale.ROOT, "%d,%.6f,%.6f,%.6f,%.6f,%.3f,%.1f,%s", epoch, trainLoss,
                trainAccuracy, validationLoss, validationAccuracy, seconds, samplesPerSecond, best);
    }
}
