package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lacuna.core.Model;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

class OnnxImporterTest {
    private static final double LOGIT_TOLERANCE = 1e-5;

    @TestFactory
    Stream<DynamicTest> everyCaseImportsToItsArchitectureWithPyTorchsLogits() {
        List<String> names = OnnxCases.names();
        // A missing directory must fail: a parity test that checks nothing would pass silently.
        assertFalse(names.isEmpty(), "no cases in " + OnnxCases.directory().toAbsolutePath());
        return names.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode root = OnnxCases.json(name);
            Model model = OnnxImporter.read(OnnxCases.onnx(name));
            assertEquals(OnnxCases.architecture(root), model.architecture());
            double diff = OnnxCases.maxLogitDifference(model, root);
            assertTrue(diff <= LOGIT_TOLERANCE, name + ": max |logit difference| " + diff);
            assertEquals("true", model.metadata().get(OnnxImporter.PLACEHOLDER_KEY));
            assertEquals(0, model.vocabulary().codePoint(0));
        }));
    }
}
