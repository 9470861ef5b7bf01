package dev.lacuna.pipeline.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.InvalidOptionException;
import java.util.List;
import org.junit.jupiter.api.Test;

class QualityGateTest {
    private static CompressReport report(double sparsity, Double bpcBefore, Double bpcAfter, Double diff) {
        return new CompressReport(CompressReport.VERSION, "h", new CompressReport.Settings("oneshot", 0.5, 0, 1, 0,
                false, List.of("onnx"), 0), new CompressReport.InputFile("m.onnx", 10, "x"), null, 100,
                Math.round(100 * (1 - sparsity)), sparsity, 120, bpcBefore, bpcAfter, diff,
                List.of(new CompressReport.Output("onnx", "m.onnx", 5000, "y")));
    }

    @Test
    void passesWithinEveryLimit() {
        GateLimits limits = new GateLimits(0.75, 0.1, 0.05, 5000L);
        assertEquals(List.of(), QualityGate.check(report(0.8, 2.0, 2.05, 0.01), limits));
        assertEquals("sparsity 0.8 >= 0.75; bpc increase 0.05 <= 0.1; max output diff 0.01 <= 0.05;"
                + " largest file 5000 <= 5000 bytes", QualityGate.summary(report(0.8, 2.0, 2.05, 0.01), limits));
    }

    @Test
    void namesTheLimitTheMeasuredValueAndTheAllowedOne() {
        List<QualityGate.Violation> v = QualityGate.check(report(0.5, 2.0, 2.3, 0.2),
                new GateLimits(0.75, 0.1, 0.05, 4999L));
        assertEquals(List.of("minSparsity", "maxBpcIncrease", "maxOutputDiff", "maxSizeBytes"),
                v.stream().map(QualityGate.Violation::limit).toList());
        assertEquals("sparsity 0.5 is below the limit minSparsity = 0.75", v.get(0).message());
        assertTrue(v.get(1).message().contains("0.3") && v.get(1).message().contains("maxBpcIncrease = 0.1"),
                v.get(1).message());
        assertEquals("size of m.onnx 5000 bytes is above the limit maxSizeBytes = 4999 bytes", v.get(3).message());
    }

    @Test
    void aLimitOnAnUnmeasuredQuantityFails() {
        List<QualityGate.Violation> v = QualityGate.check(report(0.9, null, null, null),
                new GateLimits(null, 0.1, 0.5, null));
        assertEquals(2, v.size());
        assertTrue(v.get(0).message().contains("give training data"), v.get(0).message());
        assertTrue(v.get(1).message().contains("add the onnx format"), v.get(1).message());
    }

    @Test
    void rejectsLimitsOutOfRange() {
        assertEquals("minSparsity", assertThrows(InvalidOptionException.class,
                () -> new GateLimits(1.5, null, null, null)).option());
        assertEquals("maxOutputDiff", assertThrows(InvalidOptionException.class,
                () -> new GateLimits(null, null, -1.0, null)).option());
        assertEquals("maxSizeBytes", assertThrows(InvalidOptionException.class,
                () -> new GateLimits(null, null, null, 0L)).option());
    }
}
