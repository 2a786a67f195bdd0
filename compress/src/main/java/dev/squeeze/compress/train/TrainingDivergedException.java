package dev.squeeze.compress.train;

/** The loss became NaN or infinite: training stopped at once; the last good checkpoint is kept. */
public class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
