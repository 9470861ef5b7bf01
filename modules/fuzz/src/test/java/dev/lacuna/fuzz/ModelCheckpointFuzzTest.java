package dev.lacuna.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lacuna.core.Model;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.io.ModelCheckpoint;

/**
 * Fuzzes {@link ModelCheckpoint#load}: the safetensors layer plus the architecture, vocabulary and mask metadata
 * Lacuna adds on top. Seeds are real checkpoints so that mutations reach the metadata checks, not only the
 * container's.
 */
class ModelCheckpointFuzzTest {
    private final ReaderContract contract = new ReaderContract("input.safetensors");

    // Tokens of the architecture metadata, as they appear in the file: a JSON object inside a JSON string, so its
    // quotes are escaped. They let mutations produce other architectures, not only broken JSON.
    @DictionaryEntries({"\\\"cell\\\":\\\"gru\\\"", "\\\"cell\\\":\\\"rnn\\\"", "\\\"layers\\\":",
        "\\\"hidden_size\\\":", "\\\"embed_dim\\\":", "\\\"vocab_size\\\":", "\\\"bidirectional\\\":true",
        "\\\"activation\\\":\\\"relu\\\"", "_mask", "2147483647", "1000000000", "-1", "\"BOOL\"", "\"F16\""})
    @FuzzTest
    void load(byte[] bytes) {
        contract.read(bytes, ModelCheckpoint::load).ifPresent(ModelCheckpointFuzzTest::matchesItsArchitecture);
    }

    /** An accepted checkpoint holds exactly the tensors its architecture declares, and masks of the same size. */
    private static void matchesItsArchitecture(Model model) {
        assertEquals(model.architecture().tensors().size(), model.tensors().size());
        assertEquals(model.architecture().vocabSize(), model.vocabulary().size());
        for (TensorSpec spec : model.architecture().tensors()) {
            boolean[] keep = model.mask(spec.name());
            if (keep != null) {
                assertEquals(spec.elementCount(), keep.length, spec::toString);
            }
        }
    }
}
