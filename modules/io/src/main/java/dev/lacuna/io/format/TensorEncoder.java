package dev.lacuna.io.format;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.TensorRole;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes one tensor: builds every position layout and value coding that meets the requested precision and keeps
 * the smallest payload (format.md §10).
 */
final class TensorEncoder {
    /** Relative-index widths tried when the width is automatic; Deep Compression used 5 (fc) and 8 (conv). */
    static final int AUTO_MIN_WIDTH = 2;
    static final int AUTO_MAX_WIDTH = 8;

    private TensorEncoder() {
    }

    /**
     * One encoded tensor.
     *
     * @param positions stored element indices (null = all)
     * @param decoded   value of each stored element as a reader will decode it
     */
    record Result(String name, int[] shape, boolean masked, PositionLayout layout, ValueCoding values,
                  byte[] payload, int[] positions, float[] decoded, TensorReport report) {

        /** The whole tensor as a reader will decode it. */
        float[] decodedData() {
            int n = Math.toIntExact(report.elements());
            if (positions == null) {
                return decoded.clone();
            }
            float[] data = new float[n];
            for (int i = 0; i < positions.length; i++) {
                data[positions[i]] = decoded[i];
            }
            return data;
        }

        /** The mask a reader will decode, or null. */
        boolean[] decodedMask() {
            if (!masked) {
                return null;
            }
            boolean[] keep = new boolean[Math.toIntExact(report.elements())];
            if (positions == null) {
                java.util.Arrays.fill(keep, true);
            } else {
                for (int p : positions) {
                    keep[p] = true;
                }
            }
            return keep;
        }
    }

    /**
     * The smallest encoding of a tensor under {@code options}.
     *
     * @param mask       keep-mask or null; masked-out weights are stored as nothing, whatever their value
     * @param gateBlocks number of gate blocks packed along the rows (codebooks are per block when asked for)
     */
    static Result encode(String name, int[] shape, float[] data, boolean[] mask, TensorRole role, int gateBlocks,
                         EncodingOptions options) {
        List<ValueCoding> codings = new ArrayList<>();
        switch (options.precision()) {
            case LOSSLESS -> codings.add(F32Values.INSTANCE);
            case FP16 -> addHalfPrecision(codings, options);
            case QUANTIZED -> {
                // Deep Compression shares weights, not biases: biases are few, and a shared forget-gate bias would
                // cost accuracy for no measurable size.
                if (role != TensorRole.BIAS) {
                    boolean gated = role == TensorRole.INPUT_WEIGHT || role == TensorRole.RECURRENT_WEIGHT;
                    int blocks = options.perGateCodebooks() && gated ? gateBlocks : 1;
                    codings.add(new CodebookValues(options.bits(), blocks, options.huffman()));
                }
                addHalfPrecision(codings, options);
            }
            default -> throw new IllegalStateException(options.precision().toString());
        }
        List<PositionLayout> sparseLayouts = new ArrayList<>();
        sparseLayouts.add(BitmapPositions.INSTANCE);
        if (options.indexBits() == EncodingOptions.AUTO_INDEX_BITS) {
            for (int w = AUTO_MIN_WIDTH; w <= AUTO_MAX_WIDTH; w++) {
                sparseLayouts.add(new RelativeIndices(w, options.huffman()));
            }
        } else {
            sparseLayouts.add(new RelativeIndices(options.indexBits(), options.huffman()));
        }

        Result best = null;
        for (ValueCoding coding : codings) {
            boolean codebook = coding instanceof CodebookValues;
            if (codebook) {
                requireFinite(name, data, mask);
            }
            int[] sparse = storedPositions(data, mask, codebook);
            if (sparse == null || (mask == null && !codebook)) {
                // Dense: every element stored, zeros included (never for codebooks: zeros are not clustered).
                best = smaller(best, assemble(name, shape, mask != null, AllPositions.INSTANCE, coding, null,
                        coding.encode(data, null, data.length), data.length));
            }
            if (sparse != null) {
                ValueCoding.Encoded values = coding.encode(gather(data, sparse), sparse, data.length);
                for (PositionLayout layout : sparseLayouts) {
                    best = smaller(best, assemble(name, shape, mask != null, layout, coding, sparse, values,
                            data.length));
                }
            }
        }
        return best;
    }

    /**
     * Half precision, and with Huffman allowed also its byte planes with a Huffman-coded high byte (the same values
     * bit for bit). Plain f16 comes first so that it wins a tie and the file stays format 1.0.
     */
    private static void addHalfPrecision(List<ValueCoding> codings, EncodingOptions options) {
        codings.add(F16Values.INSTANCE);
        if (options.huffman()) {
            codings.add(F16Planes.INSTANCE);
        }
    }

    /**
     * Encodes with a given layout and value coding, for tests and golden files.
     *
     * @throws IllegalArgumentException when the layout cannot represent the tensor (the dense layout for a tensor
     *                                  with pruned weights, or with zeros under a codebook)
     */
    static Result encodeWith(String name, int[] shape, float[] data, boolean[] mask, PositionLayout layout,
                             ValueCoding coding) {
        boolean codebook = coding instanceof CodebookValues;
        if (codebook) {
            requireFinite(name, data, mask);
        }
        int[] positions;
        if (layout instanceof AllPositions) {
            positions = null;
            if (storedPositions(data, mask, codebook) != null && (mask != null || codebook)) {
                throw new IllegalArgumentException(name + ": the dense layout cannot hold pruned or zero weights"
                        + (codebook ? " under a codebook" : ""));
            }
        } else {
            positions = storedPositions(data, mask, codebook);
            if (positions == null) {
                positions = allPositions(data.length);
            }
        }
        float[] values = positions == null ? data : gather(data, positions);
        return assemble(name, shape, mask != null, layout, coding, positions, coding.encode(values, positions,
                data.length), data.length);
    }

    private static Result assemble(String name, int[] shape, boolean masked, PositionLayout layout,
                                   ValueCoding coding, int[] positions, ValueCoding.Encoded values, int n) {
        PositionLayout.Encoded where = layout.encode(positions, n);
        byte[] payload = values.bytes();
        if (where.bytes().length > 0) { // a dense payload is the value block itself: no copy of a large tensor
            payload = new byte[where.bytes().length + values.bytes().length];
            System.arraycopy(where.bytes(), 0, payload, 0, where.bytes().length);
            System.arraycopy(values.bytes(), 0, payload, where.bytes().length, values.bytes().length);
        }
        long stored = positions == null ? n : positions.length;
        TensorReport report = new TensorReport(name, shape, masked, layout.label(), coding.label(), n, stored,
                where.fillers(), payload.length, where.bytes().length, values.bytes().length, where.stream(),
                values.stream());
        return new Result(name, shape, masked, layout, coding, payload, positions, values.decoded(), report);
    }

    private static Result smaller(Result best, Result candidate) {
        return best == null || candidate.payload().length < best.payload().length ? candidate : best;
    }

    /**
     * The stored elements, or null when every element is stored. Masked tensors store their kept weights; otherwise
     * non-zero values (by bits, so −0.0 survives float32 and float16; by value for codebooks, which keep zeros
     * exactly zero).
     */
    static int[] storedPositions(float[] data, boolean[] mask, boolean codebook) {
        int count = 0;
        for (int i = 0; i < data.length; i++) {
            if (isStored(data, mask, codebook, i)) {
                count++;
            }
        }
        if (count == data.length) {
            return null;
        }
        int[] positions = new int[count];
        for (int i = 0, k = 0; i < data.length; i++) {
            if (isStored(data, mask, codebook, i)) {
                positions[k++] = i;
            }
        }
        return positions;
    }

    private static boolean isStored(float[] data, boolean[] mask, boolean codebook, int i) {
        if (mask != null) {
            return mask[i];
        }
        return codebook ? data[i] != 0f : Float.floatToRawIntBits(data[i]) != 0;
    }

    private static float[] gather(float[] data, int[] positions) {
        float[] values = new float[positions.length];
        for (int i = 0; i < positions.length; i++) {
            values[i] = data[positions[i]];
        }
        return values;
    }

    private static int[] allPositions(int n) {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        return all;
    }

    private static void requireFinite(String name, float[] data, boolean[] mask) {
        for (int i = 0; i < data.length; i++) {
            if ((mask == null || mask[i]) && !Float.isFinite(data[i])) {
                throw new InvalidOptionException("--bits", "tensor " + name + " holds " + data[i] + " at element "
                        + i + "; k-means quantization needs finite weights (compress without --bits to keep them"
                        + " bit-exactly)");
            }
        }
    }
}
