/**
 * The run ledger: every train, distill, prune, quantize or export run is one row in a database (an SQLite file
 * by default, PostgreSQL for a team), with its git commit, configuration hash, accuracies and sizes, so
 * experiments can be compared, resumed and cited.
 *
 * <ul>
 *   <li>{@link dev.squeeze.compress.ledger.ConfigHash}: open_lth-style hash of a configuration's non-default
 *       settings, over {@link dev.squeeze.compress.ledger.CanonicalJson};</li>
 *   <li>{@link dev.squeeze.compress.ledger.RunLedger}: start, finish, fail, annotate and query runs;</li>
 *   <li>{@link dev.squeeze.compress.ledger.RunTable}: the experiment sheet as fixed-width text or JSON.</li>
 * </ul>
 */
package dev.squeeze.compress.ledger;
