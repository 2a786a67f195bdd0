/**
 * Lottery tickets (Frankle &amp; Carbin 2019; late rewinding, Frankle et al. 2020): iterative magnitude
 * pruning with rewinding, the controls that show a ticket is a ticket (random re-initialisation, random
 * pruning), and structured pruning that writes a physically smaller network.
 */
package dev.squeeze.compress.prune;
