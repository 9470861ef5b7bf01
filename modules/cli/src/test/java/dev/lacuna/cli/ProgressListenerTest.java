package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressListenerTest {

    @Test
    void plainModePrintsAboutEveryTenPercent() {
        StringWriter err = new StringWriter();
        ProgressListener listener = ProgressListener.plain("prune", new PrintWriter(err));
        listener.onStart(95);
        for (long step = 0; step < 95; step++) {
            listener.onStep(step, 2.0, step / 95.0);
        }
        listener.onEvaluation(95, 1.75);
        listener.onFinish();
        List<String> lines = err.toString().lines().toList();
        assertEquals(11, lines.size(), err::toString); // steps 9, 18, ..., 90, then the evaluation
        assertTrue(lines.get(0).startsWith("prune: step 9/95 (9%), train bpc 2.000, sparsity 8.4%"), lines.get(0));
        assertTrue(lines.get(0).contains("eta"), lines.get(0));
        assertEquals("prune: held-out bpc 1.7500 after 95 steps", lines.get(10));
    }

    @Test
    void trainBpcIsSmoothed() {
        StringWriter err = new StringWriter();
        ProgressListener listener = ProgressListener.plain("train", new PrintWriter(err));
        listener.onStart(2);
        listener.onStep(0, 4.0, 0);
        listener.onStep(1, 2.0, 0);
        List<String> lines = err.toString().lines().toList();
        assertTrue(lines.get(0).contains("train bpc 4.000"), lines.get(0));
        assertTrue(lines.get(1).contains("train bpc 3.800"), lines.get(1)); // 4 + 0.1 * (2 - 4)
    }
}
