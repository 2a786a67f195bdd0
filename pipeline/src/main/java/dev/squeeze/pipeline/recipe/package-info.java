/**
 * Recipes: one YAML file declaring a whole pipeline. {@link dev.squeeze.pipeline.recipe.RecipeSchema} describes every
 * key, {@link dev.squeeze.pipeline.recipe.RecipeParser} reads and checks a recipe against it,
 * {@link dev.squeeze.pipeline.recipe.RecipePrinter} writes the resolved recipe back out,
 * {@link dev.squeeze.pipeline.recipe.Recipes} hashes it (the non-default rule of every stage) and holds the built-in
 * ones, and {@link dev.squeeze.pipeline.recipe.RecipeRunner} runs its stages through compress's services, benches
 * through {@link dev.squeeze.pipeline.bench.BenchService} and starts the server through serve's plain API.
 */
package dev.squeeze.pipeline.recipe;
