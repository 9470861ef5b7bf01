package dev.lacuna.io.format;

import dev.lacuna.core.InvalidOptionException;
import java.util.Locale;

/** How precisely a {@code .lacuna} file keeps the weights (format.md §10). */
public enum Precision {
    /** float32, bit-exact. */
    LOSSLESS,
    /** IEEE half precision, rounded to nearest even. */
    FP16,
    /** k-means codebooks for weight matrices (Deep Compression weight sharing), half precision for biases. */
    QUANTIZED;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code lossless}, {@code fp16} or {@code quantized}, case-insensitively. */
    public static Precision parse(String option, String text) {
        for (Precision p : values()) {
            if (p.id().equalsIgnoreCase(text.trim())) {
                return p;
            }
        }
        throw new InvalidOptionException(option, "unknown precision '" + text
                + "' (expected lossless, fp16 or quantized)");
    }
}
