package dev.lacuna.pipeline.compress;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Checks a {@link CompressReport} against {@link GateLimits} (issue #7, the {@code check} goal). A limit whose
 * quantity the report did not measure (no training data for bpc, no ONNX output for the output difference) is a
 * violation too: a gate that silently passes what it cannot see would defeat its purpose.
 */
public final class QualityGate {
    private QualityGate() {
    }

    /**
     * One failed limit.
     *
     * @param limit    the limit's name ({@code minSparsity}, {@code maxBpcIncrease}, {@code maxOutputDiff},
     *                 {@code maxSizeBytes})
     * @param allowed  the configured limit, as text
     * @param measured the measured value as text, or null when the report does not have it
     * @param message  one sentence naming the limit, the measured value and the allowed one
     */
    public record Violation(String limit, String allowed, String measured, String message) {
    }

    /** Every violated limit, in the order minSparsity, maxBpcIncrease, maxOutputDiff, maxSizeBytes; empty = pass. */
    public static List<Violation> check(CompressReport report, GateLimits limits) {
        List<Violation> out = new ArrayList<>();
        if (limits.minSparsity() != null && report.sparsity() < limits.minSparsity()) {
            out.add(violation("minSparsity", "sparsity", number(report.sparsity()), "below",
                    number(limits.minSparsity())));
        }
        if (limits.maxBpcIncrease() != null) {
            Double increase = report.bpcIncrease();
            if (increase == null) {
                out.add(unmeasured("maxBpcIncrease", "held-out bpc increase", number(limits.maxBpcIncrease()),
                        "the report has no bpc: give training data"));
            } else if (increase > limits.maxBpcIncrease()) {
                out.add(violation("maxBpcIncrease", String.format(Locale.ROOT, "held-out bpc increase (%s -> %s)",
                        number(report.bpcBefore()), number(report.bpcAfter())), number(increase), "above",
                        number(limits.maxBpcIncrease())));
            }
        }
        if (limits.maxOutputDiff() != null) {
            Double diff = report.maxOutputDiff();
            if (diff == null) {
                out.add(unmeasured("maxOutputDiff", "max output difference", number(limits.maxOutputDiff()),
                        "the report has none: add the onnx format"));
            } else if (diff > limits.maxOutputDiff()) {
                out.add(violation("maxOutputDiff", "max output difference in ONNX Runtime", number(diff), "above",
                        number(limits.maxOutputDiff())));
            }
        }
        if (limits.maxSizeBytes() != null) {
            for (CompressReport.Output o : report.outputs()) {
                if (o.sizeBytes() > limits.maxSizeBytes()) {
                    out.add(violation("maxSizeBytes", "size of " + o.file(), o.sizeBytes() + " bytes", "above",
                            limits.maxSizeBytes() + " bytes"));
                }
            }
        }
        return out;
    }

    /**
     * The checked quantities against their limits, for the log of a passed gate, e.g.
     * {@code sparsity 0.601326 >= 0.55; largest file 13064 <= 20000 bytes}.
     */
    public static String summary(CompressReport report, GateLimits limits) {
        List<String> parts = new ArrayList<>();
        if (limits.minSparsity() != null) {
            parts.add("sparsity " + number(report.sparsity()) + " >= " + number(limits.minSparsity()));
        }
        if (limits.maxBpcIncrease() != null && report.bpcIncrease() != null) {
            parts.add("bpc increase " + number(report.bpcIncrease()) + " <= " + number(limits.maxBpcIncrease()));
        }
        if (limits.maxOutputDiff() != null && report.maxOutputDiff() != null) {
            parts.add("max output diff " + number(report.maxOutputDiff()) + " <= " + number(limits.maxOutputDiff()));
        }
        if (limits.maxSizeBytes() != null) {
            long largest = report.outputs().stream().mapToLong(CompressReport.Output::sizeBytes).max().orElse(0);
            parts.add("largest file " + largest + " <= " + limits.maxSizeBytes() + " bytes");
        }
        return String.join("; ", parts);
    }

    private static Violation violation(String limit, String what, String measured, String relation, String allowed) {
        return new Violation(limit, allowed, measured, String.format(Locale.ROOT, "%s %s is %s the limit %s = %s",
                what, measured, relation, limit, allowed));
    }

    private static Violation unmeasured(String limit, String what, String allowed, String why) {
        return new Violation(limit, allowed, null, String.format(Locale.ROOT, "%s = %s cannot be checked: %s is not"
                + " measured (%s)", limit, allowed, what, why));
    }

    /** Enough digits to compare with a limit written in a pom, without float noise. */
    static String number(double value) {
        return String.format(Locale.ROOT, "%.6g", value).replaceFirst("(\\.\\d*?)0+(e|$)", "$1$2")
                .replaceFirst("\\.(e|$)", "$1");
    }
}
