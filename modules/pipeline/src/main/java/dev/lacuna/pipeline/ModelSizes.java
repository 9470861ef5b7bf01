package dev.lacuna.pipeline;

import dev.lacuna.core.Model;
import dev.lacuna.core.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Storage sizes of one model, in bytes.
 *
 * <p>{@code fp32} stores every parameter densely as 4-byte floats. {@code sparse} stores each masked 2-D tensor in
 * CSR: per non-zero a 4-byte float value and a column index of 2 bytes (int16, when the tensor has at most 65,536
 * columns; 4 bytes otherwise), plus one 4-byte row pointer per row and one more; a tensor whose CSR would be larger
 * than its dense form, and every unmasked tensor (biases, the embedding unless pruned), counts densely. No headers,
 * names or codebooks are counted. At 90% sparsity this gives about 1/(0.1·6/4) ≈ 6.7× rather than 10×
 * (algorithms.md §7). {@code quantized} and {@code huffman} come from a {@link CompressedSizeHook} and are null when
 * it has no encoder.
 */
public record ModelSizes(long fp32, long sparse, Long quantized, Long huffman) {
    static final int FLOAT_BYTES = 4;
    static final int ROW_POINTER_BYTES = 4;
    static final int MAX_INT16_COLUMNS = 1 << 16;

    /** Sizes of {@code model} as it is now (masked weights already zero). */
    public static ModelSizes of(Model model, CompressedSizeHook hook) {
        long fp32 = 0;
        long sparse = 0;
        for (Tensor t : model.tensors().values()) {
            long dense = (long) t.size() * FLOAT_BYTES;
            fp32 += dense;
            sparse += model.mask(t.name()) != null && t.rank() == 2 ? Math.min(dense, csrBytes(t)) : dense;
        }
        Long quantized = hook.quantizedBytes(model).isPresent() ? hook.quantizedBytes(model).getAsLong() : null;
        Long huffman = hook.huffmanBytes(model).isPresent() ? hook.huffmanBytes(model).getAsLong() : null;
        return new ModelSizes(fp32, sparse, quantized, huffman);
    }

    /** CSR bytes of a 2-D tensor: values and column indices per non-zero, rows + 1 row pointers. */
    static long csrBytes(Tensor t) {
        int rows = t.dim(0);
        int cols = t.dim(1);
        int indexBytes = cols <= MAX_INT16_COLUMNS ? 2 : 4;
        return t.countNonZero() * (FLOAT_BYTES + indexBytes) + (long) (rows + 1) * ROW_POINTER_BYTES;
    }

    /** Report fields {@code fp32, sparse, quantized, huffman} (null where unknown). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fp32", fp32);
        m.put("sparse", sparse);
        m.put("quantized", quantized);
        m.put("huffman", huffman);
        return m;
    }
}
