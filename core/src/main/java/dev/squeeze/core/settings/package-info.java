/**
 * Settings written once: a stage's settings record marks each user-facing component with
 * {@link dev.squeeze.core.settings.Setting} (name, help, default, range, check), and
 * {@link dev.squeeze.core.settings.StageSettings} turns the record into what the rest of Squeeze offers the user:
 * command-line options (cli), recipe sections and {@code run --explain} (pipeline), sweep keys (compress), and the
 * checks with their messages ({@link dev.squeeze.core.settings.SettingSpec}), which name the setting as it was given.
 */
package dev.squeeze.core.settings;
