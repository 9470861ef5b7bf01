package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Model;
import dev.lacuna.io.format.LacunaFormat;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The compact quantized ONNX figures of issue #4 for a real {@code .lacuna} file (not run by default): with
 * {@code -Dlacuna.onnx.measureQuantized=FILE.lacuna} it exports the model with scatter (codebook) and dense
 * storage, prints the sizes and each tensor's form, and the max abs difference of ONNX Runtime's logits from
 * Lacuna's forward pass on 64 × 4 random tokens.
 */
@EnabledIfSystemProperty(named = "lacuna.onnx.measureQuantized", matches = ".+")
class QuantizedExportMeasurement {
    private static final int TIME = 64;
    private static final int BATCH = 4;

    @Test
    void measure() {
        Path file = Path.of(System.getProperty("lacuna.onnx.measureQuantized"));
        Model model = LacunaFormat.read(file);
        long[] tokens = TestModels.tokens(TIME, BATCH, model.architecture().vocabSize(), 1);
        NdArray want = TestModels.forward(model, tokens, TIME, BATCH).logits();
        Map<String, NdArray> inputs = Map.of(OnnxExporter.TOKENS, NdArray.ofLongs(new long[] {TIME, BATCH}, tokens));

        ExportOptions scatter = ExportOptions.defaults().withSparse(SparseMode.SCATTER);
        Onnx.ModelProto compact = OnnxExporter.export(model, scatter);
        Onnx.ModelProto dense = OnnxExporter.export(model, ExportOptions.defaults().withSparse(SparseMode.NONE));
        for (ExportReport.StoredTensor t : OnnxExporter.report(model, scatter).tensors()) {
            System.out.printf(Locale.ROOT, "%-24s %-8s size %,9d nonzero %,8d codebook %5d bytes %,9d (%.2f bits per "
                    + "non-zero)%n", t.name(), t.storage().id(), t.size(), t.nonzero(), t.codebook(), t.bytes(),
                    8.0 * t.bytes() / Math.max(1, t.nonzero()));
        }
        Map<String, NdArray> compactOut = OnnxVerifier.run(compact, inputs);
        double diff = compactOut.get(OnnxExporter.LOGITS).maxAbsDiff(want);
        double vsDense = compactOut.get(OnnxExporter.LOGITS).maxAbsDiff(OnnxVerifier.run(dense, inputs)
                .get(OnnxExporter.LOGITS));
        System.out.printf(Locale.ROOT, "compact %,d bytes, dense %,d bytes: %.2fx smaller; max abs diff vs Java %.3g, "
                + "vs dense export %.3g%n", compact.getSerializedSize(), dense.getSerializedSize(),
                (double) dense.getSerializedSize() / compact.getSerializedSize(), diff, vsDense);
        assertTrue(diff <= 1e-5, "diff " + diff);
        assertEquals(0.0, vsDense);
    }
}
