package dev.lacuna.core.prune;

import static dev.lacuna.core.prune.AgpPruningPolicyTest.PRUNED;
import static dev.lacuna.core.prune.AgpPruningPolicyTest.model;
import static dev.lacuna.core.prune.AgpPruningPolicyTest.pruned;
import static dev.lacuna.core.prune.GradualScheduleTest.assertOption;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Model;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HanPruningPolicyTest {

    @Test
    void standardDeviationIsTorchStd() {
        // torch.tensor([1., 2., 3., 4.]).std() = 1.2909944...
        assertEquals(1.2909944487358056, HanPruningPolicy.standardDeviation(new float[] {1, 2, 3, 4}), 1e-12);
        assertEquals(0, HanPruningPolicy.standardDeviation(new float[] {5}), 0);
    }

    @Test
    void eachRoundRaisesTheThresholdTowardsSSigma() {
        Model m = model();
        Map<String, Double> s = new LinkedHashMap<>();
        for (String name : PRUNED) {
            s.put(name, 1.0);
        }
        long previous = 0;
        for (int round = 1; round <= 3; round++) {
            HanPruningPolicy policy = HanPruningPolicy.round(m, s, round, 3);
            assertTrue(policy.refreshesAt(0));
            assertFalse(policy.refreshesAt(1), "the mask stays fixed while the round retrains");
            policy.refresh(0, m);
            long prunedNow = 0;
            for (String name : PRUNED) {
                double sigma = HanPruningPolicy.standardDeviation(model().tensor(name).data());
                assertEquals(round / 3.0 * sigma, policy.threshold(name), 1e-12);
                float[] w = m.tensor(name).data();
                boolean[] keep = m.mask(name);
                for (int i = 0; i < w.length; i++) {
                    assertEquals(Math.abs(w[i]) > policy.threshold(name), keep[i], name + "[" + i + "]");
                }
                prunedNow += pruned(m, name);
            }
            assertTrue(prunedNow > previous, "round " + round + " prunes more");
            previous = prunedNow;
        }
    }

    @Test
    void sigmaStaysThatOfTheDenseModelAndMasksAreAnded() {
        Model m = model();
        Map<String, Double> s = Map.of("rnn.weight_hh_l0", 0.5);
        HanPruningPolicy first = HanPruningPolicy.round(m, s, 2, 2);
        first.refresh(0, m);
        m.applyMasks();
        boolean[] afterFirst = m.mask("rnn.weight_hh_l0").clone();
        // A later round is built from the pruned model but must still see the dense σ it was given.
        HanPruningPolicy again = HanPruningPolicy.round(model(), s, 2, 2);
        assertEquals(first.threshold("rnn.weight_hh_l0"), again.threshold("rnn.weight_hh_l0"), 0);
        m.tensor("rnn.weight_hh_l0").data()[indexOfPruned(afterFirst)] = 9f;
        again.refresh(0, m);
        assertFalse(m.mask("rnn.weight_hh_l0")[indexOfPruned(afterFirst)], "AND with the previous mask");
        assertEquals(null, m.mask("rnn.weight_ih_l0"), "tensors without s stay dense");
    }

    private static int indexOfPruned(boolean[] keep) {
        for (int i = 0; i < keep.length; i++) {
            if (!keep[i]) {
                return i;
            }
        }
        throw new AssertionError("nothing pruned");
    }

    @Test
    void qualityForTargetReachesTheTargetOnTheDenseWeights() {
        Model m = model();
        Map<String, Double> relative = new LinkedHashMap<>();
        relative.put(PRUNED.get(0), 1.0);
        relative.put(PRUNED.get(1), 2.0);
        relative.put(PRUNED.get(2), 1.0);
        Map<String, Double> s = HanPruningPolicy.qualityForTarget(m, relative, 0.8);
        assertEquals(2.0, s.get(PRUNED.get(1)) / s.get(PRUNED.get(0)), 1e-9, "relative tolerances are kept");
        HanPruningPolicy.round(m, s, 1, 1).refresh(0, m);
        long total = 0;
        long prunedAll = 0;
        for (String name : PRUNED) {
            total += m.tensor(name).size();
            prunedAll += pruned(m, name);
        }
        assertEquals(0.8, (double) prunedAll / total, 1.5 / total);
    }

    @Test
    void badSettingsNameTheirOption() {
        Model m = model();
        assertOption("--han-rounds", () -> HanPruningPolicy.round(m, Map.of(), 4, 3));
        assertOption("--han-s", () -> HanPruningPolicy.round(m, Map.of("rnn.bias_ih_l0", 1.0), 1, 1));
        assertOption("--han-s", () -> HanPruningPolicy.round(m, Map.of(PRUNED.get(0), -1.0), 1, 1));
        assertOption("--target-sparsity", () -> HanPruningPolicy.qualityForTarget(m, Map.of(PRUNED.get(0), 1.0), 1));
    }
}
