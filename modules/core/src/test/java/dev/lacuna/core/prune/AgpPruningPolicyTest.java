package dev.lacuna.core.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import java.util.List;
import org.junit.jupiter.api.Test;

class AgpPruningPolicyTest {
    static final List<String> PRUNED = List.of("rnn.weight_ih_l0", "rnn.weight_hh_l0", Architecture.HEAD_WEIGHT);

    /** LSTM, vocabulary 5, embedding 3, hidden 10: W_ih [40,3], W_hh [40,10], head [5,10]. */
    static Model model() {
        return Model.initialize(Architecture.of(CellType.LSTM, 5, 3, 10, 1), Vocabulary.of("abcde"), 3);
    }

    static long pruned(Model model, String name) {
        long n = 0;
        for (boolean keep : model.mask(name)) {
            if (!keep) {
                n++;
            }
        }
        return n;
    }

    @Test
    void eachPruningStepHitsTheScheduledSparsityInEveryTensor() {
        Model m = model();
        AgpSchedule schedule = AgpSchedule.fromRange(0, 0.9, 0, 100, 10);
        AgpPruningPolicy policy = new AgpPruningPolicy(m, schedule, false, false);
        assertEquals(PRUNED, policy.prunedTensors());
        for (long t = 0; t < 200; t++) {
            if (!policy.refreshesAt(t)) {
                continue;
            }
            policy.refresh(t, m);
            for (String name : PRUNED) {
                long size = m.tensor(name).size();
                assertEquals(Math.round(schedule.sparsity(t) * size), pruned(m, name), name + " at step " + t);
            }
        }
        m.applyMasks();
        assertEquals(0.9, m.sparsity(false).sparsity(), 0.01);
        assertEquals(null, m.mask(Architecture.EMBEDDING), "the embedding stays dense unless asked");
    }

    @Test
    void masksAreStickyEvenWhenPrunedWeightsGrowBack() {
        Model m = model();
        AgpPruningPolicy policy = new AgpPruningPolicy(m, AgpSchedule.fromRange(0, 0.5, 0, 30, 10), false, false);
        policy.refresh(0, m);
        policy.refresh(10, m);
        String name = "rnn.weight_hh_l0";
        boolean[] before = m.mask(name).clone();
        int revived = -1;
        for (int i = 0; i < before.length; i++) {
            if (!before[i]) {
                revived = i;
                m.tensor(name).data()[i] = 100f; // an optimizer step that carried a pruned weight far up
                break;
            }
        }
        policy.refresh(20, m);
        assertFalse(m.mask(name)[revived], "a pruned weight stays pruned");
    }

    @Test
    void pooledModeMeetsTheTargetOverAllTensorsTogether() {
        Model perTensor = model();
        Model pooled = model();
        new AgpPruningPolicy(perTensor, new AgpSchedule(0, 0.6, 0, 1, 1), false, false).refresh(1, perTensor);
        new AgpPruningPolicy(pooled, new AgpSchedule(0, 0.6, 0, 1, 1), true, false).refresh(1, pooled);
        long total = 0;
        long prunedPooled = 0;
        for (String name : PRUNED) {
            total += pooled.tensor(name).size();
            prunedPooled += pruned(pooled, name);
        }
        assertEquals(Math.round(0.6 * total), prunedPooled);
        // Different scales per tensor make the pooled split differ from the per-tensor one.
        boolean differs = false;
        for (String name : PRUNED) {
            differs |= pruned(pooled, name) != pruned(perTensor, name);
        }
        assertTrue(differs);
        assertNotEquals(0, prunedPooled);
    }

    @Test
    void embeddingIsPrunedOnRequest() {
        Model m = model();
        new AgpPruningPolicy(m, new AgpSchedule(0, 0.5, 0, 1, 1), false, true).refresh(1, m);
        assertEquals(Math.round(0.5 * 15), pruned(m, Architecture.EMBEDDING));
    }
}
