package dev.lacuna.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Model;
import dev.lacuna.core.prune.HanPruningPolicy;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.Evaluator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SensitivityAnalysisTest {

    @Test
    void prunesEachTensorAloneAndLeavesTheModelAsItWas(@TempDir Path dir) throws Exception {
        Path text = Tiny.text(dir, 200);
        Model model = Tiny.trainedGru(text);
        int[] ids = CharCorpus.load(text, model.vocabulary()).validation();
        float[] before = model.tensor("rnn.weight_ih_l0").data().clone();
        SensitivityAnalysis.Result result = SensitivityAnalysis.run(model, ids, List.of(0.9, 0.3), false,
                RunListener.NONE);
        assertArrayEquals(before, model.tensor("rnn.weight_ih_l0").data());
        assertEquals(List.of(0.3, 0.9), result.levels(), "levels sorted");
        assertEquals(List.of("rnn.weight_ih_l0", "rnn.weight_hh_l0", "head.weight"),
                result.rows().stream().map(SensitivityAnalysis.Row::tensor).toList());
        assertEquals(Evaluator.bpc(model, ids), result.denseBpc(), 1e-9);

        // Cross-check one cell by pruning the head by hand.
        Model byHand = model.copy();
        float[] head = byHand.tensor("head.weight").data();
        float[] sorted = SensitivityAnalysis.sortedMagnitudes(head);
        double threshold = sorted[(int) Math.round(0.9 * head.length) - 1];
        for (int i = 0; i < head.length; i++) {
            if (Math.abs(head[i]) <= threshold) {
                head[i] = 0;
            }
        }
        assertEquals(Evaluator.bpc(byHand, ids), result.rows().get(2).bpc().get(1), 1e-9);
        assertTrue(result.rows().get(2).bpc().get(1) > result.denseBpc(), "pruning 90% of the head costs bits");

        ReportFiles.writeSensitivity(dir, result, 0.02);
        String html = Files.readString(dir.resolve(ReportFiles.SENSITIVITY_HTML));
        assertTrue(html.contains("<svg"));
        assertFalse(html.contains("http"));
        assertTrue(Files.readString(dir.resolve(ReportFiles.SENSITIVITY_MARKDOWN)).contains("| head.weight |"));
    }

    @Test
    void hanQualityPrunesEachTensorToItsSafeLevel() {
        float[] magnitudes = new float[100];
        for (int i = 0; i < 100; i++) {
            magnitudes[i] = (i + 1) / 100f;
        }
        // Tensor a tolerates 80% (bpc within 2%), tensor b nothing: it gets half the lowest level.
        var a = new SensitivityAnalysis.Row("a", 100, List.of(1.00, 1.01, 1.10), 0.5, magnitudes);
        var b = new SensitivityAnalysis.Row("b", 100, List.of(1.05, 1.20, 1.50), 0.25, magnitudes);
        var result = new SensitivityAnalysis.Result(1.0, List.of(0.5, 0.8, 0.9), List.of(a, b));
        assertEquals(0.8, result.safeLevel(a, 0.02));
        assertEquals(0.25, result.safeLevel(b, 0.02));
        Map<String, Double> s = result.hanQuality(0.02);
        assertEquals(0.80 / 0.5, s.get("a"), 1e-6, "s·σ is the 80th-percentile magnitude");
        assertEquals(0.25 / 0.25, s.get("b"), 1e-6);
        assertEquals(HanPruningPolicy.class, HanPruningPolicy.class);
    }
}
