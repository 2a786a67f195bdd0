/** Reports for people: fixed-width text tables shared by the ledger's table, sweeps and later reports. */
package dev.squeeze.compress.report;
