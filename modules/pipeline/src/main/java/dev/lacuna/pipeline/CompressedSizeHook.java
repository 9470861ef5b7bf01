package dev.lacuna.pipeline;

import dev.lacuna.core.Model;
import dev.lacuna.io.format.EncodingOptions;
import dev.lacuna.io.format.LacunaFormat;
import java.util.OptionalLong;

/**
 * Where the quantized and Huffman-coded sizes of a pruned model come from (Deep Compression's stages 3 and 4,
 * algorithms.md §4): {@link #lacunaFormat(int)} measures them with the {@code .lacuna} encoder; reports made with
 * {@link #NOT_AVAILABLE} print "n/a" in those columns.
 */
public interface CompressedSizeHook {

    /** No encoder available: every size is absent. */
    CompressedSizeHook NOT_AVAILABLE = new CompressedSizeHook() {
        @Override
        public OptionalLong quantizedBytes(Model model) {
            return OptionalLong.empty();
        }

        @Override
        public OptionalLong huffmanBytes(Model model) {
            return OptionalLong.empty();
        }
    };

    /**
     * The exact sizes of {@code .lacuna} files with {@code bits}-bit k-means codebooks, without and with Huffman
     * coding (everything counted: header, codebooks, tables, CRCs), as {@code lacuna compress} would write them.
     */
    static CompressedSizeHook lacunaFormat(int bits) {
        EncodingOptions quantized = EncodingOptions.quantized(bits);
        return new CompressedSizeHook() {
            @Override
            public OptionalLong quantizedBytes(Model model) {
                return OptionalLong.of(LacunaFormat.encode(model, quantized).sizeBytes());
            }

            @Override
            public OptionalLong huffmanBytes(Model model) {
                return OptionalLong.of(LacunaFormat.encode(model, quantized.withHuffman(true)).sizeBytes());
            }
        };
    }

    /** Bytes of the model after pruning and weight-sharing quantization, or empty when unknown. */
    OptionalLong quantizedBytes(Model model);

    /** Bytes of the model after pruning, quantization and Huffman coding, or empty when unknown. */
    OptionalLong huffmanBytes(Model model);
}
