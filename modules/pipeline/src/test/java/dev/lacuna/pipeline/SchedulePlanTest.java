package dev.lacuna.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.core.prune.GradualPruningPolicy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SchedulePlanTest {

    private static Model model() {
        return Model.initialize(Architecture.of(CellType.LSTM, 6, 4, 12, 2), Vocabulary.of("abcdef"), 5);
    }

    @Test
    void previewRisesMonotonicallyToThePredictedFinalSparsity() {
        Model dense = model();
        GradualPruningPolicy policy = GradualPruningPolicy.builder(dense, 2000, 100).targetSparsity(0.9).build();
        SchedulePlan plan = SchedulePlan.of(dense, policy, 2000);
        List<SchedulePlan.Row> rows = plan.preview();
        assertTrue(rows.size() >= 5 && rows.size() <= SchedulePlan.MAX_PREVIEW_ROWS, "rows: " + rows.size());
        for (int i = 1; i < rows.size(); i++) {
            assertTrue(rows.get(i).sparsity() >= rows.get(i - 1).sparsity(), "monotone at " + rows.get(i));
            assertTrue(rows.get(i).step() > rows.get(i - 1).step());
        }
        SchedulePlan.Row last = rows.get(rows.size() - 1);
        assertEquals(policy.steps().lastRefresh(), last.step());
        assertEquals(plan.predictedSparsity(), last.sparsity(), 1e-12, "the last refresh is the prediction");
        assertEquals(0.9, plan.predictedSparsity(), 0.005, "target mode predicts its target on the dense weights");

        long prunable = dense.prunable(false).stream().mapToLong(s -> s.elementCount()).sum();
        long params = dense.architecture().parameterCount();
        assertEquals(params - Math.round(plan.predictedSparsity() * prunable), plan.predictedNonzero());
    }

    @Test
    void jsonAndTextCarryTheDerivedSchedule() {
        Model dense = model();
        GradualPruningPolicy policy = GradualPruningPolicy.builder(dense, 1000, 1000).build();
        SchedulePlan plan = SchedulePlan.of(dense, policy, 1000);
        Map<String, Object> m = plan.toMap();
        // Without an epoch length shorter than the run, start falls back to 5% of the run (ScheduleSteps).
        assertEquals(50L, m.get("start"));
        assertEquals(250L, m.get("ramp"));
        assertEquals(500L, m.get("end"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> tensors = (List<Map<String, Object>>) m.get("tensors");
        assertEquals(policy.prunedTensors().size(), tensors.size());
        Map<String, Object> first = tensors.get(0);
        assertEquals(1.5 * (Double) first.get("theta"), (Double) first.get("phi"), 1e-12);
        assertEquals(policy.q().get(first.get("name")), first.get("q"));
        String text = plan.toText();
        assertTrue(text.contains("start 50, ramp 250, end 500"), text);
        assertTrue(text.contains("rnn.weight_hh_l1"), text);
        assertTrue(text.contains("predicted final sparsity"), text);
        assertTrue(text.contains("|#"), "an ASCII bar per preview row");
    }
}
