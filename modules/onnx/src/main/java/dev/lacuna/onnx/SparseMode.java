package dev.lacuna.onnx;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import java.util.Locale;

/**
 * How an ONNX export stores weight tensors that hold zeros (issue #3, item 5). Whatever the mode, each tensor is
 * stored in the form that takes fewer bytes: a tensor whose sparse form would be larger stays dense.
 */
public enum SparseMode {
    /** Every tensor as an ordinary dense initializer. */
    NONE,
    /**
     * Non-zero values and linear indices as an ONNX {@code sparse_initializer}, with the narrowest index type ONNX
     * Runtime accepts (int8, int16 or int32). ONNX Runtime loads it; the ONNX checker does not (it demands int64
     * indices, and its full check rejects sparse initializers feeding MatMul or LSTM).
     */
    INITIALIZER,
    /**
     * Non-zero values and int32 (or narrower, then cast) indices as ordinary initializers, rebuilt into the dense
     * tensor by standard operators ({@code ConstantOfShape → ScatterElements → Reshape}), or with the positions as
     * int8 gaps summed by {@code CumSum} when that is smaller. Passes the ONNX checker's
     * full check and runs in any runtime; ONNX Runtime folds the rebuild into a constant when it loads the model.
     * A tensor whose values are shared (a quantized model's) may instead be stored as codebook + narrow codes +
     * narrow position gaps, decoded by the same standard operators plus Cast, BitShift, CumSum and Gather
     * ({@code CodebookStorage}), when that is smaller.
     */
    SCATTER;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The default for a model: {@link #SCATTER} when it is pruned (has masks or zero weights), else {@link #NONE}. */
    public static SparseMode defaultFor(Model model) {
        boolean pruned = !model.masks().isEmpty() || model.sparsity(true).sparsity() > 0;
        return pruned ? SCATTER : NONE;
    }

    /** Parses {@code none}, {@code initializer} or {@code scatter}, case-insensitively. */
    public static SparseMode parse(String option, String text) {
        for (SparseMode m : values()) {
            if (m.id().equalsIgnoreCase(text.trim())) {
                return m;
            }
        }
        throw new InvalidOptionException(option, "unknown sparse storage '" + text
                + "' (expected none, initializer or scatter)");
    }
}
