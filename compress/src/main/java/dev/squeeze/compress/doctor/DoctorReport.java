package dev.squeeze.compress.doctor;

import dev.squeeze.compress.artifacts.Json;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every check's result, and the folder holding the curves (CSV and PNG) the checks drew.
 */
public record DoctorReport(String model, String dataset, List<CheckResult> checks, Path artifacts) {

    public boolean failed() {
        return checks.stream().anyMatch(c -> c.verdict() == Verdict.FAIL);
    }

    public long count(Verdict verdict) {
        return checks.stream().filter(c -> c.verdict() == verdict).count();
    }

    /** One line per check (verdict, name, evidence), a fix line under each warning or failure, a summary. */
    public String format() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "squeeze doctor: %s on %s%n%n", model, dataset));
        for (CheckResult c : checks) {
            out.append(String.format(Locale.ROOT, "%-4s  %-24s %s%n", c.verdict().label(), c.check(), c.evidence()));
            if (c.fix() != null) out.append(String.format(Locale.ROOT, "      %-24s fix: %s%n", "", c.fix()));
        }
        out.append(String.format(Locale.ROOT, "%n%d checks: %d pass, %d warn, %d fail. Curves (CSV, PNG) in %s%n",
                checks.size(), count(Verdict.PASS), count(Verdict.WARN), count(Verdict.FAIL), artifacts));
        return out.toString();
    }

    public String json() {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("model", model);
        report.put("dataset", dataset);
        report.put("failed", failed());
        report.put("artifacts", artifacts.toString());
        report.put("checks", checks);
        return Json.write(report);
    }
}
