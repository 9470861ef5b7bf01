package dev.lacuna.core.prune;

import static dev.lacuna.core.prune.GradualScheduleTest.assertOption;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GradualPruningPolicyTest {
    private static final String IH = "rnn.weight_ih_l0";
    private static final String HH = "rnn.weight_hh_l0";
    private static final String HEAD = Architecture.HEAD_WEIGHT;
    private static final List<String> PRUNED = List.of(IH, HH, HEAD);

    // 10 epochs of 100 steps: S = 100, R = 250, E = 500, f = min(100, 400/10) = 40; last refresh 480.
    private static final long STEPS = 1000;
    private static final long PER_EPOCH = 100;

    /** GRU, vocabulary 5, embedding 3, hidden 4: W_ih [12,3], W_hh [12,4], head [5,4], embedding [5,3]. */
    private static Model tinyModel() {
        return Model.initialize(Architecture.of(CellType.GRU, 5, 3, 4, 1), Vocabulary.of("abcde"), 42);
    }

    private static GradualPruningPolicy.Builder builder(Model dense) {
        return GradualPruningPolicy.builder(dense, STEPS, PER_EPOCH);
    }

    /** Runs every refresh of the schedule on static weights, as a trainer with a zero learning rate would. */
    private static void runAllRefreshes(GradualPruningPolicy policy, Model model) {
        for (long t = 0; t < STEPS; t++) {
            if (policy.refreshesAt(t)) {
                policy.refresh(t, model);
            }
        }
    }

    private static long prunedCount(Model model, String name) {
        boolean[] keep = model.mask(name);
        long n = 0;
        for (boolean k : keep) {
            if (!k) {
                n++;
            }
        }
        return n;
    }

    @Test
    void defaultQIsTheNinetiethPercentileOfEachTensor() {
        Model dense = tinyModel();
        float[] hh = dense.tensor(HH).data();
        for (int i = 0; i < hh.length; i++) {
            hh[i] = (i % 2 == 0 ? 1 : -1) * (i + 1) / 100f;   // |w| = 0.01 ... 0.48
        }
        GradualPruningPolicy policy = builder(dense).build();
        // numpy: index 0.9·47 = 42.3 between 0.43 and 0.44
        assertEquals(0.433, policy.q().get(HH), 1e-6);
        assertEquals(PRUNED, policy.prunedTensors());
        assertEquals(new ScheduleSteps(100, 250, 500, 40), policy.steps());
        assertEquals(policy.q().get(HH) * 40 / (150 + 1.5 * 250), policy.schedule(HH).startSlope(), 1e-15);
        assertNotEquals(policy.q().get(IH), policy.q().get(HH));
    }

    @Test
    void perLayerTypeSharesOneQAcrossInputAndRecurrentMatrices() {
        Model dense = tinyModel();
        GradualPruningPolicy policy = builder(dense).qMode(QMode.PER_LAYER_TYPE).build();
        double pooled = Magnitudes.of(List.of(dense.tensor(IH).data(), dense.tensor(HH).data())).percentile(90);
        assertEquals(pooled, policy.q().get(IH));
        assertEquals(pooled, policy.q().get(HH));
        assertEquals(Magnitudes.of(List.of(dense.tensor(HEAD).data())).percentile(90), policy.q().get(HEAD));
        assertNotEquals(policy.q().get(IH), policy.q().get(HEAD));
        assertEquals(policy.threshold(IH, 300), policy.threshold(HH, 300));
        assertEquals("per-layer-type", policy.hyperparameters().get("q_mode"));
    }

    @Test
    void embeddingAndBiasesAreUntouchedByDefault() {
        Model model = tinyModel();
        GradualPruningPolicy policy = builder(model).q(0.2).build();
        runAllRefreshes(policy, model);
        assertEquals(PRUNED, List.copyOf(model.masks().keySet()));
        assertNull(model.mask(Architecture.EMBEDDING));
        assertNull(model.mask(Architecture.biasIh(0, false)));
        assertNull(model.mask(Architecture.HEAD_BIAS));
        assertTrue(prunedCount(model, HH) > 0);

        GradualPruningPolicy withEmbedding = builder(model).q(0.2).includeEmbedding(true).build();
        assertEquals(Architecture.EMBEDDING, withEmbedding.prunedTensors().get(0));
        withEmbedding.refresh(480, model);
        double eps = withEmbedding.threshold(Architecture.EMBEDDING, 480);
        long below = 0;
        for (float v : model.tensor(Architecture.EMBEDDING).data()) {
            below += Math.abs(v) <= eps ? 1 : 0;
        }
        assertEquals(below, prunedCount(model, Architecture.EMBEDDING));
        assertNull(model.mask(Architecture.biasHh(0, false)));
    }

    @Test
    void masksKeepExactlyTheWeightsAboveTheThreshold() {
        Model model = tinyModel();
        GradualPruningPolicy policy = builder(model).q(0.3).build();
        policy.refresh(300, model);
        double eps = policy.threshold(HH, 300);
        assertEquals(GradualSchedule.fromQ(0.3, 100, 250, 500, 40, 1.5).threshold(300), eps, 0);
        float[] w = model.tensor(HH).data();
        boolean[] keep = model.mask(HH);
        for (int i = 0; i < w.length; i++) {
            assertEquals(Math.abs(w[i]) > eps, keep[i], "weight " + i);
        }
        // refresh sets masks, the trainer zeroes weights
        assertTrue(model.tensor(HH).countNonZero() == w.length);
    }

    @Test
    void targetSparsityIsHitExactlyOnStaticWeights() {
        for (double target : new double[] {0.3, 0.7, 0.9}) {
            Model model = tinyModel();
            GradualPruningPolicy policy = builder(model).targetSparsity(target).build();
            runAllRefreshes(policy, model);
            for (String name : PRUNED) {
                int n = model.tensor(name).size();
                // Model.initialize draws distinct magnitudes, so no ties: exactly round(S·n) weights go.
                assertEquals(Math.round(target * n), prunedCount(model, name), name + " at " + target);
                assertEquals(target, policy.predictedSparsityPerTensor().get(name), 1.0 / n);
                assertEquals((double) prunedCount(model, name) / n, policy.predictedSparsityPerTensor().get(name));
            }
            assertEquals(target, policy.predictedSparsity(), 1.0 / 36);
            assertEquals(target, policy.hyperparameters().get("target_sparsity"));
            assertNull(policy.hyperparameters().get("percentile"));
        }
    }

    @Test
    void targetSparsityIsHitEvenWhenTrainingMovesTheWeights() {
        Model model = tinyModel();
        GradualPruningPolicy policy = builder(model).targetSparsity(0.8).build();
        for (long t = 0; t < STEPS; t++) {
            if (t == 300) {
                // Fine-tuning shrinks the surviving weights: a threshold fixed from the dense weights would now
                // prune far more than the target; the per-refresh calibration must not.
                for (String name : PRUNED) {
                    float[] w = model.tensor(name).data();
                    for (int i = 0; i < w.length; i++) {
                        w[i] *= 0.25f;
                    }
                }
            }
            if (policy.refreshesAt(t)) {
                policy.refresh(t, model);
            }
        }
        for (String name : PRUNED) {
            assertEquals(Math.round(0.8 * model.tensor(name).size()), prunedCount(model, name), name);
        }
    }

    @Test
    void targetSparsityPerLayerTypeIsHitOverThePooledTensors() {
        Model model = tinyModel();
        GradualPruningPolicy policy = builder(model).targetSparsity(0.75).qMode(QMode.PER_LAYER_TYPE).build();
        runAllRefreshes(policy, model);
        assertEquals(policy.q().get(IH), policy.q().get(HH));
        assertEquals(Math.round(0.75 * (36 + 48)), prunedCount(model, IH) + prunedCount(model, HH));
        assertEquals(Math.round(0.75 * 20), prunedCount(model, HEAD));
    }

    @Test
    void targetTiesAtTheThresholdArePruned() {
        Model model = tinyModel();
        float[] head = model.tensor(HEAD).data();
        Arrays.fill(head, 0.25f);
        head[0] = 1f;
        GradualPruningPolicy policy = builder(model).targetSparsity(0.5).build();
        policy.refresh(policy.steps().lastRefresh(), model);
        // the 10th smallest |w| is 0.25, shared by 19 weights: all of them go
        assertEquals(19, prunedCount(model, HEAD));
        assertEquals(0.95, policy.predictedSparsityPerTensor().get(HEAD), 1e-12);
    }

    @Test
    void qModePredictsTheFractionBelowTheFinalThreshold() {
        Model model = tinyModel();
        GradualPruningPolicy policy = builder(model).q(0.25).build();
        long below = 0;
        long total = 0;
        for (String name : PRUNED) {
            double last = policy.schedule(name).finalThreshold();
            long n = 0;
            for (float v : model.tensor(name).data()) {
                n += Math.abs(v) <= last ? 1 : 0;
            }
            assertEquals((double) n / model.tensor(name).size(), policy.predictedSparsityPerTensor().get(name));
            below += n;
            total += model.tensor(name).size();
        }
        assertEquals((double) below / total, policy.predictedSparsity(), 1e-15);
        runAllRefreshes(policy, model);
        assertEquals(below, PRUNED.stream().mapToLong(name -> prunedCount(model, name)).sum());
    }

    @Test
    void stickyMasksNeverRegrowButRegrowthDoes() {
        for (boolean sticky : new boolean[] {true, false}) {
            Model model = tinyModel();
            float[] hh = model.tensor(HH).data();
            hh[0] = 0.001f;
            GradualPruningPolicy policy = builder(model).q(0.3).sticky(sticky).build();
            policy.refresh(120, model);
            assertFalse(model.mask(HH)[0]);
            // an optimizer update carried the pruned weight far above ε before the next refresh
            hh[0] = 1f;
            policy.refresh(160, model);
            assertEquals(!sticky, model.mask(HH)[0], "sticky=" + sticky);
            assertEquals(sticky, policy.hyperparameters().get("sticky"));
        }
    }

    @Test
    void stickyPruningIsMonotoneAndRegrowthFollowsTheWeights() {
        Model model = tinyModel();
        GradualPruningPolicy sticky = builder(model).q(0.3).build();
        sticky.refresh(480, model);
        long late = prunedCount(model, HH);
        sticky.refresh(120, model);   // a lower threshold cannot undo sticky pruning
        assertEquals(late, prunedCount(model, HH));
        GradualPruningPolicy regrowth = builder(model).q(0.3).sticky(false).build();
        regrowth.refresh(120, model);
        assertTrue(prunedCount(model, HH) < late);
    }

    @Test
    void hyperparametersAreResolvedInStableOrder() {
        Model model = tinyModel();
        GradualPruningPolicy policy = builder(model).freq(20L).rampRatio(2).build();
        Map<String, Object> hp = policy.hyperparameters();
        assertEquals(List.of("start", "ramp", "end", "freq", "ramp_ratio", "q_mode", "percentile", "sticky",
                "include_embedding", "target_sparsity", "q_recalibrated", "q", "theta"), new ArrayList<>(hp.keySet()));
        assertEquals(100L, hp.get("start"));
        assertEquals(250L, hp.get("ramp"));
        assertEquals(500L, hp.get("end"));
        assertEquals(20L, hp.get("freq"));
        assertEquals(2.0, hp.get("ramp_ratio"));
        assertEquals("per-tensor", hp.get("q_mode"));
        assertEquals(90.0, hp.get("percentile"));
        assertEquals(false, hp.get("include_embedding"));
        assertNull(hp.get("target_sparsity"));
        assertEquals(policy.q(), hp.get("q"));
        @SuppressWarnings("unchecked")
        Map<String, Double> theta = (Map<String, Double>) hp.get("theta");
        assertEquals(PRUNED, List.copyOf(theta.keySet()));
        assertEquals(policy.schedule(IH).startSlope(), theta.get(IH));
        assertEquals("gradual", policy.method());
    }

    @Test
    void refreshRejectsAModelOfAnotherArchitecture() {
        GradualPruningPolicy policy = builder(tinyModel()).build();
        Model other = Model.initialize(Architecture.of(CellType.LSTM, 5, 3, 4, 1), Vocabulary.of("abcde"), 1);
        assertThrows(IllegalArgumentException.class, () -> policy.refresh(120, other));
        assertThrows(IllegalArgumentException.class, () -> policy.threshold(Architecture.HEAD_BIAS, 120));
    }

    @Test
    void everyValidationErrorNamesItsOption() {
        Model dense = tinyModel();
        assertOption("--target-sparsity", () -> builder(dense).q(0.1).targetSparsity(0.5).build());
        assertOption("--target-sparsity", () -> builder(dense).targetSparsity(0.0).build());
        assertOption("--target-sparsity", () -> builder(dense).targetSparsity(1.0).build());
        assertOption("--target-sparsity", () -> builder(dense).targetSparsity(Double.NaN).build());
        assertOption("--q", () -> builder(dense).q(0.0).build());
        assertOption("--q", () -> builder(dense).q(Double.NaN).build());
        assertOption("--q", () -> builder(dense).q(Double.POSITIVE_INFINITY).build());
        assertOption("--percentile", () -> builder(dense).percentile(0).build());
        assertOption("--percentile", () -> builder(dense).percentile(100.5).build());
        assertOption("--ramp-ratio", () -> builder(dense).rampRatio(-1).build());
        assertOption("--q-mode", () -> builder(dense).qMode(null).build());
        assertOption("--q-mode", () -> QMode.parse("per-layer"));
        assertEquals(QMode.PER_LAYER_TYPE, QMode.parse("Per-Layer-Type"));
        assertOption("--start", () -> builder(dense).start(-1L).build());
        assertOption("--ramp", () -> builder(dense).start(300L).build());
        assertOption("--end", () -> builder(dense).end(200L).build());
        assertOption("--freq", () -> builder(dense).freq(0L).build());
        InvalidOptionException past = assertThrows(InvalidOptionException.class,
                () -> builder(dense).end(STEPS + 1).build());
        assertEquals("--end", past.option());
        assertTrue(past.getMessage().contains("past the run of 1000 steps"), past.getMessage());
    }

    @Test
    void allZeroTensorIsNamedWhenItsPercentileIsZero() {
        Model dense = tinyModel();
        Arrays.fill(dense.tensor(HH).data(), 0f);
        InvalidOptionException e = assertThrows(InvalidOptionException.class, () -> builder(dense).build());
        assertEquals("--q", e.option());
        assertTrue(e.getMessage().contains(HH), e.getMessage());
        // a given q or a pooled layer type with non-zero weights does not need the tensor's own percentile
        builder(dense).q(0.1).build();
        // pooled: 48 zeros and 36 non-zero weights, so the 90th percentile is not 0
        builder(dense).qMode(QMode.PER_LAYER_TYPE).build();
    }
}
