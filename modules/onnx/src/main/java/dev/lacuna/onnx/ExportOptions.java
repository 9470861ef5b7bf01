package dev.lacuna.onnx;

import dev.lacuna.core.InvalidOptionException;

/**
 * Settings of an ONNX export.
 *
 * @param sparse          storage of tensors with zeros, or null for {@link SparseMode#defaultFor the model's
 *                        default}
 * @param opset           the default-domain opset the graph is stamped with, 14 to 23 (ONNX Runtime 1.23 accepts at
 *                        most 23); the IR version follows from it
 * @param producerVersion written as the model's {@code producer_version} (the toolkit version)
 */
public record ExportOptions(SparseMode sparse, int opset, String producerVersion) {
    /** Opset 17 with IR 8 is what Debian's onnx 1.12 checker still validates. */
    public static final int DEFAULT_OPSET = 17;
    /** Squeeze and Slice take their axes as inputs from 13 on; 14 is PyTorch 1.13's default export opset. */
    public static final int MIN_OPSET = 14;
    /** The newest opset ONNX Runtime 1.23.2 accepts (ONNX 1.18). */
    public static final int MAX_OPSET = 23;

    public ExportOptions {
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new InvalidOptionException("--opset", "must be from " + MIN_OPSET + " to " + MAX_OPSET
                    + ", found " + opset);
        }
        if (producerVersion == null) {
            producerVersion = "unknown";
        }
    }

    /** The model's default storage, opset {@value #DEFAULT_OPSET}. */
    public static ExportOptions defaults() {
        return new ExportOptions(null, DEFAULT_OPSET, null);
    }

    public ExportOptions withSparse(SparseMode mode) {
        return new ExportOptions(mode, opset, producerVersion);
    }

    public ExportOptions withOpset(int newOpset) {
        return new ExportOptions(sparse, newOpset, producerVersion);
    }

    public ExportOptions withProducerVersion(String version) {
        return new ExportOptions(sparse, opset, version);
    }

    /**
     * The IR version released together with the opset (onnx/docs/Versioning.md): IR 8 up to opset 18, IR 9 for 19
     * and 20, IR 10 for 21 and 22, IR 11 for 23. Stamping the oldest IR that knows the opset keeps older checkers
     * and runtimes able to read the file.
     */
    public int irVersion() {
        if (opset <= 18) {
            return 8;
        }
        if (opset <= 20) {
            return 9;
        }
        return opset <= 22 ? 10 : 11;
    }
}
