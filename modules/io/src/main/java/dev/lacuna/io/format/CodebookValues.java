package dev.lacuna.io.format;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Weight sharing (Deep Compression §3, algorithms.md §4(a)3): per block a k-means codebook of at most 2^bits float
 * centroids, and per stored element the index of its centroid. Only non-zero weights are clustered, so a pruned
 * weight is never moved off zero; a kept weight that is exactly zero gets an exact 0.0 entry of its own.
 */
final class CodebookValues implements ValueCoding {
    static final int ID = 2;
    static final int MIN_BITS = 1;
    static final int MAX_BITS = 8;

    private final int bits;
    private final int blocks;
    private final boolean allowHuffman;

    /**
     * @param bits   code width, 1..8 (2^bits centroids at most)
     * @param blocks number of equal element ranges with their own codebook (the gate blocks of a packed matrix)
     */
    CodebookValues(int bits, int blocks, boolean allowHuffman) {
        if (bits < MIN_BITS || bits > MAX_BITS) {
            throw new IllegalArgumentException("code width " + bits + " outside " + MIN_BITS + ".." + MAX_BITS);
        }
        if (blocks < 1 || blocks > 0xFFFF) {
            throw new IllegalArgumentException("block count " + blocks + " outside 1..65535");
        }
        this.bits = bits;
        this.blocks = blocks;
        this.allowHuffman = allowHuffman;
    }

    static CodebookValues reader() {
        return new CodebookValues(MAX_BITS, 1, true);
    }

    @Override
    public int id() {
        return ID;
    }

    @Override
    public String label() {
        return "codebook" + bits;
    }

    @Override
    public Encoded encode(float[] values, int[] positions, int elementCount) {
        if (elementCount % blocks != 0) {
            throw new IllegalArgumentException(blocks + " blocks do not divide " + elementCount + " elements");
        }
        int blockSize = elementCount / blocks;
        float[][] codebooks = new float[blocks][];
        int[] blockStart = new int[blocks + 1]; // first stored index of each block
        for (int j = 0, i = 0; j <= blocks; j++) {
            while (i < values.length && position(positions, i) < (long) j * blockSize) {
                i++;
            }
            blockStart[j] = i;
        }
        blockStart[blocks] = values.length;
        int[] codes = new int[values.length];
        float[] decoded = new float[values.length];
        for (int j = 0; j < blocks; j++) {
            float[] blockValues = Arrays.copyOfRange(values, blockStart[j], blockStart[j + 1]);
            codebooks[j] = quantize(blockValues, codes, decoded, blockStart[j]);
        }
        SymbolStream.Encoded stream = SymbolStream.encode(codes, codes.length, bits, allowHuffman);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer header = ByteBuffer.allocate(3).order(ByteOrder.LITTLE_ENDIAN);
        header.put((byte) bits).putShort((short) blocks);
        out.writeBytes(header.array());
        for (float[] codebook : codebooks) {
            ByteBuffer entries = ByteBuffer.allocate(2 + 4 * codebook.length).order(ByteOrder.LITTLE_ENDIAN);
            entries.putShort((short) codebook.length);
            for (float c : codebook) {
                entries.putFloat(c);
            }
            out.writeBytes(entries.array());
        }
        out.writeBytes(stream.bytes());
        return new Encoded(out.toByteArray(), decoded, stream.stats());
    }

    /** Clusters one block; writes codes and decoded values from {@code offset}; returns the codebook. */
    private float[] quantize(float[] blockValues, int[] codes, float[] decoded, int offset) {
        int nonZero = 0;
        for (float v : blockValues) {
            if (v != 0f) {
                nonZero++;
            }
        }
        boolean keptZero = nonZero < blockValues.length;
        float[] clustered = new float[nonZero];
        for (int i = 0, k = 0; i < blockValues.length; i++) {
            if (blockValues[i] != 0f) {
                clustered[k++] = blockValues[i];
            }
        }
        float[] centroids = KMeans1D.centroids(clustered, keptZero ? (1 << bits) - 1 : 1 << bits);
        float[] codebook = centroids;
        if (keptZero && Arrays.binarySearch(centroids, 0f) < 0) {
            codebook = Arrays.copyOf(centroids, centroids.length + 1);
            codebook[centroids.length] = 0f;
            Arrays.sort(codebook);
        }
        for (int i = 0; i < blockValues.length; i++) {
            float v = blockValues[i];
            float centroid = v == 0f ? 0f : centroids[KMeans1D.nearest(centroids, v)];
            int code = Arrays.binarySearch(codebook, centroid);
            codes[offset + i] = code;
            decoded[offset + i] = codebook[code];
        }
        return codebook;
    }

    @Override
    public Decoded decode(Cursor in, int[] positions, int storedCount, int elementCount) {
        long start = in.offset();
        int b = in.u8("code width");
        if (b < MIN_BITS || b > MAX_BITS) {
            throw in.failAt(start, "code width " + b + " outside " + MIN_BITS + ".." + MAX_BITS);
        }
        int blockCount = in.u16("codebook count");
        if (blockCount == 0 || elementCount % blockCount != 0) {
            throw in.failAt(start + 1, blockCount + " codebook blocks do not divide " + elementCount + " elements");
        }
        float[][] codebooks = new float[blockCount][];
        for (int j = 0; j < blockCount; j++) {
            long offset = in.offset();
            int k = in.u16("codebook " + j + " size");
            if (k > 1 << b) {
                throw in.failAt(offset, "codebook " + j + " has " + k + " entries, more than 2^" + b);
            }
            if (4L * k > in.remaining()) {
                throw in.failAt(offset, "truncated: codebook " + j + " needs " + 4L * k + " bytes");
            }
            codebooks[j] = new float[k];
            for (int c = 0; c < k; c++) {
                float value = in.f32("centroid");
                if (!Float.isFinite(value)) {
                    throw in.failAt(in.offset() - 4, "codebook " + j + " entry " + c + " is " + value
                            + "; centroids must be finite");
                }
                codebooks[j][c] = value;
            }
        }
        SymbolStream.Decoded stream = SymbolStream.decode(in, storedCount, b, "code");
        int[] codes = stream.symbols();
        int blockSize = elementCount / blockCount;
        float[] values = new float[storedCount];
        for (int i = 0; i < storedCount; i++) {
            int block = (positions == null ? i : positions[i]) / blockSize;
            float[] codebook = codebooks[block];
            if (codes[i] >= codebook.length) {
                throw in.fail("code " + codes[i] + " of stored element " + i + " is past the " + codebook.length
                        + " entries of codebook " + block);
            }
            values[i] = codebook[codes[i]];
        }
        return new Decoded(values, stream.stats(), "codebook" + b);
    }

    private static long position(int[] positions, int i) {
        return positions == null ? i : positions[i];
    }
}
