/**
 * Model zoo ({@code zoo}) and datasets ({@code data}): what the engine trains on and what it trains. Nothing here
 * trains; {@code dev.squeeze.compress} does. Bad input and atomic writes are in {@code dev.squeeze.core}.
 */
package dev.squeeze.models;
