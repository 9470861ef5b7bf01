package dev.lacuna.io.format;

/**
 * What one symbol stream (relative indices, codebook codes or the high bytes of f16 planes) costs, and how close
 * that is to its entropy.
 *
 * @param coding        {@code raw} (fixed width) or {@code huffman}
 * @param symbols       number of symbols in the stream (for indices, fillers included)
 * @param width         raw symbol width in bits; the alphabet has 2^width symbols
 * @param payloadBits   bits of the coded symbols, without the table and byte padding
 * @param tableBytes    bytes of the stored Huffman table (0 for raw)
 * @param entropyBits   empirical entropy of the stream in bits per symbol (−Σ p log2 p over its histogram)
 */
public record StreamStats(String coding, long symbols, int width, long payloadBits, int tableBytes,
                          double entropyBits) {

    /** Entropy bound over the bits actually spent on symbols: 1.0 is optimal, raw streams are usually well below. */
    public double efficiency() {
        return payloadBits == 0 ? 1.0 : entropyBits * symbols / payloadBits;
    }

    static double entropy(long[] histogram) {
        long total = 0;
        for (long count : histogram) {
            total += count;
        }
        double h = 0;
        for (long count : histogram) {
            if (count > 0) {
                double p = (double) count / total;
                h -= p * Math.log(p) / Math.log(2);
            }
        }
        return h;
    }
}
