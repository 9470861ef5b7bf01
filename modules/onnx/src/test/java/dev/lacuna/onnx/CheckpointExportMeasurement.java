package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Model;
import dev.lacuna.io.ModelCheckpoint;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The figures of issue #3 for a real checkpoint (not run by default): with {@code -Dlacuna.onnx.measure=FILE}
 * it exports the checkpoint with every storage, prints the file sizes and the max abs difference of ONNX Runtime's
 * logits from Lacuna's forward pass on 64 × 4 random tokens, and checks both targets.
 */
@EnabledIfSystemProperty(named = "lacuna.onnx.measure", matches = ".+")
class CheckpointExportMeasurement {
    private static final int TIME = 64;
    private static final int BATCH = 4;

    @Test
    void measure() {
        Path file = Path.of(System.getProperty("lacuna.onnx.measure"));
        Model model = ModelCheckpoint.load(file);
        int vocab = model.architecture().vocabSize();
        long[] tokens = TestModels.tokens(TIME, BATCH, vocab, 1);
        NdArray want = TestModels.forward(model, tokens, TIME, BATCH).logits();
        Map<String, NdArray> inputs = Map.of(OnnxExporter.TOKENS, NdArray.ofLongs(new long[] {TIME, BATCH}, tokens));
        long dense = 0;
        System.out.printf(Locale.ROOT, "%s: sparsity %.4f of prunable weights%n", file,
                model.sparsity(model.mask("embedding.weight") != null).sparsity());
        for (SparseMode mode : SparseMode.values()) {
            var proto = OnnxExporter.export(model, ExportOptions.defaults().withSparse(mode));
            long bytes = proto.getSerializedSize();
            if (mode == SparseMode.NONE) {
                dense = bytes;
            }
            double diff = OnnxVerifier.run(proto, inputs).get(OnnxExporter.LOGITS).maxAbsDiff(want);
            System.out.printf(Locale.ROOT, "%-12s %,12d bytes  %.3f x dense  max abs diff vs Java %.3g%n", mode.id(),
                    bytes, (double) bytes / dense, diff);
            assertTrue(diff <= 1e-5, mode.id() + " diff " + diff);
        }
    }
}
