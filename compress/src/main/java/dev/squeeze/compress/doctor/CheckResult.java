package dev.squeeze.compress.doctor;

/**
 * One check's line: what it found (the evidence, with numbers) and, unless it passed, what to do.
 *
 * @param fix null when there is nothing to do
 */
public record CheckResult(String check, Verdict verdict, String evidence, String fix) {

    public static CheckResult pass(String check, String evidence) {
        return new CheckResult(check, Verdict.PASS, evidence, null);
    }

    public static CheckResult warn(String check, String evidence, String fix) {
        return new CheckResult(check, Verdict.WARN, evidence, fix);
    }

    public static CheckResult fail(String check, String evidence, String fix) {
        return new CheckResult(check, Verdict.FAIL, evidence, fix);
    }

    /** The worse of two verdicts for the same check, evidence joined. */
    CheckResult and(CheckResult other) {
        Verdict worst = verdict.compareTo(other.verdict) >= 0 ? verdict : other.verdict;
        String fixes = fix == null ? other.fix : other.fix == null ? fix : fix + "; " + other.fix;
        return new CheckResult(check, worst, evidence + "; " + other.evidence, fixes);
    }
}
