/**
 * Model zoo ({@code zoo}), datasets ({@code data}), and the shared core ({@code core}: bad input, atomic writes):
 * what the engine trains on and what it trains. Nothing here trains; {@code dev.squeeze.compress} does.
 */
package dev.squeeze.models;
