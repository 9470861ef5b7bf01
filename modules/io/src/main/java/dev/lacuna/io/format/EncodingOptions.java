package dev.lacuna.io.format;

import dev.lacuna.core.InvalidOptionException;

/**
 * What a {@code .lacuna} writer is asked for. Per tensor it then keeps the smallest encoding that meets the
 * precision (format.md §10).
 *
 * @param precision         lossless float32, fp16, or quantized codebooks
 * @param bits              code width of the codebooks, 2..8 (2^bits centroids); only for {@link Precision#QUANTIZED}
 * @param huffman           allow Huffman coding of the relative indices, the codebook codes and the high bytes of
 *                          half-precision values (f16 planes, format 1.1); used per stream only when smaller than
 *                          the raw stream with its table
 * @param indexBits         width of the relative indices, 1..16, or 0 to try 2..8 per tensor and keep the smallest
 * @param perGateCodebooks  one codebook per gate block of each recurrent matrix instead of one per tensor
 */
public record EncodingOptions(Precision precision, int bits, boolean huffman, int indexBits,
                              boolean perGateCodebooks) {
    /** {@link #indexBits} value that lets the writer choose per tensor. */
    public static final int AUTO_INDEX_BITS = 0;

    public EncodingOptions {
        if (precision == null) {
            throw new InvalidOptionException("--precision", "must be given");
        }
        if (precision == Precision.QUANTIZED && (bits < 2 || bits > 8)) {
            throw new InvalidOptionException("--bits", "must be 2 to 8 (a codebook of 4 to 256 entries), found " + bits);
        }
        if (precision != Precision.QUANTIZED && bits != 0) {
            throw new InvalidOptionException("--bits", "only applies to quantized precision");
        }
        if (indexBits != AUTO_INDEX_BITS && (indexBits < RelativeIndices.MIN_WIDTH
                || indexBits > RelativeIndices.MAX_WIDTH)) {
            throw new InvalidOptionException("--index-bits", "must be 1 to 16, or 0 to choose per tensor; found "
                    + indexBits);
        }
    }

    /** float32, bit-exact; relative indices of automatic width, no Huffman. */
    public static EncodingOptions lossless() {
        return new EncodingOptions(Precision.LOSSLESS, 0, false, AUTO_INDEX_BITS, true);
    }

    /** IEEE half precision for every tensor. */
    public static EncodingOptions fp16() {
        return new EncodingOptions(Precision.FP16, 0, false, AUTO_INDEX_BITS, true);
    }

    /** k-means codebooks of 2^bits entries, one per gate block. */
    public static EncodingOptions quantized(int bits) {
        return new EncodingOptions(Precision.QUANTIZED, bits, false, AUTO_INDEX_BITS, true);
    }

    public EncodingOptions withHuffman(boolean on) {
        return new EncodingOptions(precision, bits, on, indexBits, perGateCodebooks);
    }

    public EncodingOptions withIndexBits(int width) {
        return new EncodingOptions(precision, bits, huffman, width, perGateCodebooks);
    }

    public EncodingOptions withPerGateCodebooks(boolean on) {
        return new EncodingOptions(precision, bits, huffman, indexBits, on);
    }
}
