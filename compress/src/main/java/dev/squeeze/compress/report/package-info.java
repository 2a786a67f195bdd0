/** Reports for people: fixed-width text tables (the ledger's table, sweeps, stage outcomes) and PNG line charts (the doctor's). */
package dev.squeeze.compress.report;
