/**
 * Model zoo ({@code zoo}) and datasets ({@code data}): what the engine trains on and what it trains.
 * Nothing here trains; {@code dev.squeeze.compress} does.
 */
package dev.squeeze.models;
