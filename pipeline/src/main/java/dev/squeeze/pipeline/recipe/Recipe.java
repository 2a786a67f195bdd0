package dev.squeeze.pipeline.recipe;

/**
 * A fully resolved recipe: every setting of every pipeline stage, defaults filled in. Built by
 * {@link RecipeParser}, described key by key in {@link RecipeSchema}, printed by {@link RecipePrinter}, hashed by
 * {@link Recipes#hash(Recipe)}.
 */
public record Recipe(String name, String dataset, String data, Train train, Doctor doctor, Distill distill, Prune prune,
                     Quantize quantize, Export export, Bench bench, Serve serve) {
    public record Train(String model, String from, int epochs, int batch, double lr, double lrDecay, long seed, int patience) {}
    public record Doctor(boolean enabled) {}
    public record Distill(boolean enabled, String student, double temperature, double alpha, int epochs, double lrDecay, int patience) {}
    public record Prune(boolean enabled, int levels, double rate, String rewindTo, String structure) {}
    public record Quantize(boolean enabled, String calibration, String granularity, int samples, int qatEpochs, Double accuracyBudget) {}
    public record Export(boolean enabled, int opset) {}
    public record Bench(boolean enabled, long windowMs, long warmupMs, int maxWindows) {}
    public record Serve(boolean enabled, int port, String host) {}
}
