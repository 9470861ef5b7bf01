package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The file sizes of one-shot ONNX pruning (issue #3 items 3 and 5; not run by default): with
 * {@code -Dlacuna.onnx.measurePrune=DIR} it prunes testdata's lstm_2layer_o17_folded (0.8), its If-subgraph,
 * Constant-node, external-data and unfolded cases (0.95), and synthetic MLPs (MatMul, Add,
 * Relu, Gemm; 256 and 512 units) with the zeros in place and in scatter form, prints the sizes and each tensor's
 * storage, and leaves the files in DIR for {@code tools/check-onnx.sh}.
 */
@EnabledIfSystemProperty(named = "lacuna.onnx.measurePrune", matches = ".+")
class OnnxPruneMeasurement {

    @Test
    void measure() throws Exception {
        Path dir = Path.of(System.getProperty("lacuna.onnx.measurePrune"));
        Files.createDirectories(dir);
        measure(OnnxCases.onnx("lstm_2layer_o17_folded"), dir, "lstm_2layer_o17_folded", 0.8);
        for (String name : new String[] {"lstm_if_head_o14_folded", "gru_constants_o14_folded",
                "lstm_external_o14_folded", "lstm_bidir_o14_unfolded"}) {
            measure(OnnxCases.onnx(name), dir, name, 0.95);
        }
        for (int n : new int[] {256, 512}) {
            Path mlp = dir.resolve("mlp" + n + ".onnx");
            OnnxFiles.write(OnnxWeightsSparseStorageTest.mlp(n, 13), mlp);
            measure(mlp, dir, "mlp" + n, 0.8);
            measure(mlp, dir, "mlp" + n, 0.9);
        }
        Path branches = dir.resolve("branches.onnx");
        OnnxFiles.write(OnnxWeightsSparseStorageTest.branches(128), branches);
        measure(branches, dir, "branches", 0.9);
    }

    private static void measure(Path in, Path dir, String name, double sparsity) throws Exception {
        String tag = name + "-" + Math.round(sparsity * 100);
        Path dense = dir.resolve(tag + "-dense.onnx");
        Path sparse = dir.resolve(tag + "-scatter.onnx");
        OnnxWeights.prune(in, dense, OnnxPruning.perTensor(sparsity).withStorage(SparseMode.NONE));
        OnnxPruneReport report = OnnxWeights.prune(in, sparse, OnnxPruning.perTensor(sparsity));
        long input = Files.size(in);
        System.out.printf(Locale.ROOT, "%s at %.2f: input %,d B, pruned dense %,d B, pruned scatter %,d B (%.3f of"
                + " input)%n", name, sparsity, input, Files.size(dense), Files.size(sparse),
                (double) Files.size(sparse) / input);
        for (OnnxPruneReport.Entry e : report.tensors()) {
            System.out.printf(Locale.ROOT, "  %-28s %-10s sparsity %.3f  %,9d -> %,9d B%n", e.before().name(),
                    e.storage().id(), e.sparsityAfter(), e.denseBytes(), e.bytes());
        }
        assertTrue(Files.size(sparse) <= Files.size(dense));
    }
}
