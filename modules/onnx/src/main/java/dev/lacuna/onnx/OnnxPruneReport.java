package dev.lacuna.onnx;

import java.util.List;

/**
 * What {@link OnnxWeights#prune} did.
 *
 * @param pruning the rule and its parameter
 * @param tensors every weight tensor considered, in file order: its state before and the zero count after
 */
public record OnnxPruneReport(OnnxPruning pruning, List<Entry> tensors) {

    public OnnxPruneReport {
        tensors = List.copyOf(tensors);
    }

    /**
     * One tensor.
     *
     * @param before     the tensor as found (its {@code zeros} counts the zeros before pruning)
     * @param pruned     whether the rule applied to it (embeddings are skipped unless requested)
     * @param threshold  the magnitude threshold used (weights with |w| below it, and some or all ties, were zeroed);
     *                   0 when nothing was pruned
     * @param zerosAfter zeros after pruning
     * @param storage    how the tensor is written: {@link SparseMode#NONE} when dense (as found, zeros in place),
     *                   else the sparse form that replaced it
     * @param denseBytes bytes the tensor takes in the file when written dense (its initializer or Constant node)
     * @param bytes      bytes it takes in the written file (equal to {@code denseBytes} when dense)
     */
    public record Entry(OnnxWeight before, boolean pruned, double threshold, long zerosAfter, SparseMode storage,
                        long denseBytes, long bytes) {
        public double sparsityAfter() {
            long n = before.size();
            return n == 0 ? 0 : (double) zerosAfter / n;
        }
    }

    /** Values in the pruned tensors. */
    public long prunedTensorParameters() {
        return tensors.stream().filter(Entry::pruned).mapToLong(e -> e.before().size()).sum();
    }

    /** Zeros in the pruned tensors after pruning. */
    public long prunedTensorZeros() {
        return tensors.stream().filter(Entry::pruned).mapToLong(Entry::zerosAfter).sum();
    }

    /** Bytes all the weight tensors would take written dense. */
    public long denseBytes() {
        return tensors.stream().mapToLong(Entry::denseBytes).sum();
    }

    /** Bytes all the weight tensors take in the written file. */
    public long bytes() {
        return tensors.stream().mapToLong(Entry::bytes).sum();
    }

    /** Sparsity over the pruned tensors. */
    public double sparsity() {
        long n = prunedTensorParameters();
        return n == 0 ? 0 : (double) prunedTensorZeros() / n;
    }
}
