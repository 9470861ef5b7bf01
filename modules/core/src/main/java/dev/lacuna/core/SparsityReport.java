package dev.lacuna.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Non-zero counts per tensor and overall. {@code sparsity} is measured over the prunable tensors only (biases and,
 * unless it is pruned, the embedding are excluded), the convention of N17 and Distiller's reports.
 *
 * @param paramsTotal    every parameter of the model
 * @param paramsNonzero  every non-zero parameter of the model
 * @param prunableTotal  parameters in prunable tensors
 * @param prunableNonzero non-zero parameters in prunable tensors
 */
public record SparsityReport(List<Entry> perTensor, long paramsTotal, long paramsNonzero, long prunableTotal,
                             long prunableNonzero) {

    /** One tensor's counts. */
    public record Entry(String name, int[] shape, TensorRole role, boolean prunable, long size, long nonzero) {
        public double sparsity() {
            return size == 0 ? 0 : 1.0 - (double) nonzero / size;
        }
    }

    public SparsityReport {
        perTensor = List.copyOf(perTensor);
    }

    static SparsityReport of(Model model, boolean includeEmbedding) {
        List<Entry> entries = new ArrayList<>();
        long total = 0;
        long nonzero = 0;
        long pTotal = 0;
        long pNonzero = 0;
        var prunable = model.prunable(includeEmbedding).stream().map(TensorSpec::name).toList();
        for (TensorSpec spec : model.specs()) {
            Tensor t = model.tensor(spec.name());
            long nz = t.countNonZero();
            boolean isPrunable = prunable.contains(spec.name());
            entries.add(new Entry(spec.name(), spec.shape(), spec.role(), isPrunable, t.size(), nz));
            total += t.size();
            nonzero += nz;
            if (isPrunable) {
                pTotal += t.size();
                pNonzero += nz;
            }
        }
        return new SparsityReport(entries, total, nonzero, pTotal, pNonzero);
    }

    /** Fraction of zero weights among the prunable tensors. */
    public double sparsity() {
        return prunableTotal == 0 ? 0 : 1.0 - (double) prunableNonzero / prunableTotal;
    }
}
