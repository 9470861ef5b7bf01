package dev.lacuna.onnx;

import java.nio.file.Path;
import java.util.List;

/**
 * What an ONNX export wrote.
 *
 * @param file    the ONNX file, or null when the model was only built in memory
 * @param bytes   size of the serialized model
 * @param mode    the sparse storage requested (after defaulting)
 * @param tensors every weight tensor of the graph, in graph order, with the storage chosen for it
 */
public record ExportReport(Path file, long bytes, SparseMode mode, List<StoredTensor> tensors) {
    public ExportReport {
        tensors = List.copyOf(tensors);
    }

    /**
     * One ONNX weight tensor (ONNX packs both directions of a layer into one W, R and B).
     *
     * @param name    the ONNX value name
     * @param storage {@link SparseMode#NONE} when stored dense, else the sparse form used
     * @param size    number of elements
     * @param nonzero number of non-zero elements
     * @param bytes   bytes its initializers and rebuild nodes take in the file
     * @param codebook entries of the shared-value codebook when a {@link SparseMode#SCATTER} tensor is stored as
     *                 codebook + codes + position gaps (a quantized model's weights), else 0
     */
    public record StoredTensor(String name, SparseMode storage, long size, long nonzero, long bytes, int codebook) {
        /** A tensor stored without a codebook. */
        public StoredTensor(String name, SparseMode storage, long size, long nonzero, long bytes) {
            this(name, storage, size, nonzero, bytes, 0);
        }
    }
}
