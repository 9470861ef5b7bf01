package dev.lacuna.pipeline.compress;

import dev.lacuna.core.InvalidOptionException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The files a {@link CompressJob} can write for the compressed model. */
public enum OutputFormat {
    /** An ONNX model for ONNX Runtime (the input graph with zeroed weights when the input was ONNX). */
    ONNX("onnx", ".onnx"),
    /** Lacuna's compact file: sparse indices, optional k-means codebooks and Huffman coding (docs/format.md). */
    LACUNA("lacuna", ".lacuna");

    private final String id;
    private final String extension;

    OutputFormat(String id, String extension) {
        this.id = id;
        this.extension = extension;
    }

    /** The configuration and report name. */
    public String id() {
        return id;
    }

    /** The file name extension, with its dot. */
    public String extension() {
        return extension;
    }

    /**
     * Parses a format name (case-insensitive, blanks ignored).
     *
     * @param option the setting to name in the error
     * @throws InvalidOptionException naming {@code option} and the allowed values for an unknown name
     */
    public static OutputFormat parse(String option, String text) {
        String name = text.strip().toLowerCase(Locale.ROOT);
        for (OutputFormat f : values()) {
            if (f.id.equals(name)) {
                return f;
            }
        }
        throw new InvalidOptionException(option, "unknown format '" + text + "' (allowed: " + names() + ")");
    }

    /** All names, comma-separated. */
    public static String names() {
        return Arrays.stream(values()).map(OutputFormat::id).collect(Collectors.joining(", "));
    }
}
