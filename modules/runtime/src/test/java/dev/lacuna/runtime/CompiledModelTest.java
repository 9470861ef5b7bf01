package dev.lacuna.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.io.ModelCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The public behaviour of {@link CompiledModel} beyond numerical parity (which {@link ParityTest} covers). */
class CompiledModelTest {
    static final Architecture LSTM = Architecture.of(CellType.LSTM, ParityTest.VOCAB.size(), 8, 16, 2);

    static CompiledModel lstm(KernelChoice choice) {
        return CompiledModel.of(ParityTest.model(LSTM, 0.9, 42), choice);
    }

    @Test
    void unknownCharactersFailNamingTheCharacterAndOffset() {
        CompiledModel m = lstm(KernelChoice.AUTO);
        InvalidOptionException e = assertThrows(InvalidOptionException.class, () -> m.score("call me Ishmael"));
        assertEquals("text", e.option());
        assertTrue(e.getMessage().contains("'I' (U+0049) at offset 8"), e.getMessage());
        InvalidOptionException emoji = assertThrows(InvalidOptionException.class, () -> m.encode("ab\uD83D\uDC0B"));
        assertTrue(emoji.getMessage().contains("U+1F40B") && emoji.getMessage().contains("offset 2"),
                emoji.getMessage());
    }

    @Test
    void scoringNeedsSomethingToPredict() {
        CompiledModel m = lstm(KernelChoice.AUTO);
        assertThrows(InvalidOptionException.class, () -> m.score("c"));
        assertThrows(InvalidOptionException.class, () -> m.score(""));
        Architecture bi = new Architecture(CellType.GRU, ParityTest.VOCAB.size(), 0, 6, 1, true,
                RnnActivation.TANH, true);
        CompiledModel cloze = CompiledModel.of(Model.initialize(bi, ParityTest.VOCAB, 1));
        assertTrue(cloze.score("c") > 0, "a cloze model predicts even a single character");
    }

    @Test
    void sparseAndDenseKernelsGiveTheSameAnswers() {
        CompiledModel sparse = lstm(KernelChoice.SPARSE);
        CompiledModel dense = lstm(KernelChoice.DENSE);
        assertTrue(sparse.sparseMatrices() > 0);
        assertEquals(0, dense.sparseMatrices());
        assertEquals(dense.nonZeroWeights(), sparse.nonZeroWeights());
        assertEquals(dense.score(ParityTest.TEXT), sparse.score(ParityTest.TEXT), 1e-5);
        assertEquals(dense.generate("the ", 40, 3, 0.8), sparse.generate("the ", 40, 3, 0.8));
    }

    @Test
    void generationIsDeterministicPerSeedAndGreedyAtTemperatureZero() {
        CompiledModel m = lstm(KernelChoice.AUTO);
        String a = m.generate("call ", 60, 7, 1.0);
        assertEquals(60, a.codePointCount(0, a.length()));
        assertEquals(a, m.generate("call ", 60, 7, 1.0));
        assertNotEquals(a, m.generate("call ", 60, 8, 1.0));
        // greedy: every character is the argmax of the logits after the text so far
        String greedy = m.generate("call ", 20, 1, 0);
        assertEquals(greedy, m.generate("call ", 20, 99, 0));
        RecurrentState s = m.newState();
        float[] logits = new float[LSTM.vocabSize()];
        for (int id : m.encode("call ")) {
            m.step(s, id, logits);
        }
        for (int id : m.encode(greedy)) {
            assertEquals(argmax(logits), id);
            m.step(s, id, logits);
        }
        assertEquals("", m.generate("c", 0, 1, 1.0));
    }

    @Test
    void samplingFollowsTheSoftmaxDistribution() {
        float[] logits = {0f, (float) Math.log(3), -100f};
        SplittableRandom random = new SplittableRandom(5);
        int[] counts = new int[3];
        for (int i = 0; i < 20_000; i++) {
            counts[CompiledModel.sample(logits, 1.0, random)]++;
        }
        assertEquals(0.25, counts[0] / 20_000.0, 0.015);
        assertEquals(0.75, counts[1] / 20_000.0, 0.015);
        assertEquals(0, counts[2]);
    }

    @Test
    void generationRejectsBadArguments() {
        CompiledModel m = lstm(KernelChoice.AUTO);
        assertEquals("--generate", assertThrows(InvalidOptionException.class,
                () -> m.generate("a", -1, 1, 1)).option());
        assertEquals("--temperature", assertThrows(InvalidOptionException.class,
                () -> m.generate("a", 3, 1, -0.5)).option());
        assertThrows(InvalidOptionException.class, () -> m.generate("a", 3, 1, Double.NaN));
        assertEquals("text", assertThrows(InvalidOptionException.class, () -> m.generate("", 3, 1, 1)).option());
    }

    @Test
    void bidirectionalModelsScoreButDoNotStep() {
        Architecture bi = new Architecture(CellType.LSTM, ParityTest.VOCAB.size(), 4, 6, 1, true,
                RnnActivation.TANH, true);
        CompiledModel m = CompiledModel.of(Model.initialize(bi, ParityTest.VOCAB, 2));
        assertThrows(LacunaException.class, () -> m.step(m.newState(), 0, new float[bi.vocabSize()]));
        assertThrows(LacunaException.class, () -> m.generate("a", 3, 1, 1));
        assertTrue(m.score(ParityTest.TEXT) > 0);
    }

    @Test
    void stepWithAnInputVectorEqualsStepWithAToken() {
        for (int embed : new int[] {0, 8}) {
            Architecture arch = Architecture.of(CellType.GRU, ParityTest.VOCAB.size(), embed, 12, 2);
            Model model = ParityTest.model(arch, 0.9, 9);
            model.applyMasks(); // the embedding row fed as a vector must be the pruned one
            CompiledModel m = CompiledModel.of(model, KernelChoice.SPARSE);
            RecurrentState byToken = m.newState();
            RecurrentState byVector = m.newState();
            float[] a = new float[arch.vocabSize()];
            float[] b = new float[arch.vocabSize()];
            for (int id : m.encode("some years ago")) {
                float[] input = new float[arch.inputSize(0)];
                if (embed == 0) {
                    input[id] = 1f;
                } else {
                    System.arraycopy(model.tensor(Architecture.EMBEDDING).data(), id * embed, input, 0, embed);
                }
                m.step(byToken, id, a);
                m.step(byVector, input, b);
                assertArrayEquals(a, b, 1e-6f);
            }
            assertArrayEquals(byToken.hidden(1), byVector.hidden(1), 1e-6f);
        }
    }

    @Test
    void statesCopyAndReset() {
        CompiledModel m = lstm(KernelChoice.AUTO);
        RecurrentState s = m.newState();
        float[] logits = new float[LSTM.vocabSize()];
        for (int id : m.encode("call me")) {
            m.step(s, id, logits);
        }
        RecurrentState branch = s.copy();
        assertArrayEquals(s.cell(0), branch.cell(0));
        float[] fromOriginal = new float[logits.length];
        float[] fromCopy = new float[logits.length];
        m.step(s, 3, fromOriginal);
        m.step(branch, 3, fromCopy);
        assertArrayEquals(fromOriginal, fromCopy);
        s.reset();
        assertArrayEquals(new float[16], s.hidden(0));
        assertArrayEquals(new float[16], s.cell(1));
        assertThrows(IllegalArgumentException.class,
                () -> lstm(KernelChoice.AUTO).step(s, 0, new float[LSTM.vocabSize()]));
    }

    /**
     * Memory: a 90%-sparse model holds its non-zeros at 6 bytes each (float value + 16-bit index) plus one row
     * pointer per row and the dense biases; the model's dense arrays are not retained.
     */
    @Test
    void sparseModelHoldsAboutSixBytesPerNonZero() {
        Architecture arch = Architecture.of(CellType.LSTM, ParityTest.VOCAB.size(), 16, 64, 2);
        Model model = ParityTest.model(arch, 0.9, 4);
        CompiledModel m = CompiledModel.of(model, KernelChoice.SPARSE);
        long nonZeros = m.nonZeroWeights();
        long rowPointers = 0;
        long biases = 0;
        for (var spec : model.specs()) {
            if (spec.shape().length == 2 && !spec.name().equals(Architecture.EMBEDDING)) {
                rowPointers += 4L * (spec.shape()[0] + 1);
            } else if (spec.shape().length == 1) {
                biases += 4L * spec.shape()[0];
            }
        }
        long embedding = 4L * arch.vocabSize() * arch.embedDim();
        long embeddingNonZeros = 0;
        for (float v : model.tensor(Architecture.EMBEDDING).data()) {
            embeddingNonZeros += v != 0f ? 1 : 0;
        }
        // the one-hot-free model: every matrix is CSR; the embedding stays a dense lookup table
        long expected = 6L * (nonZeros - embeddingNonZeros) + rowPointers + embedding + biases;
        assertTrue(m.weightBytes() <= expected, m.weightBytes() + " > " + expected);
        assertTrue(m.weightBytes() < 0.2 * 4 * arch.parameterCount(), "not smaller than a fifth of dense");
    }

    @Test
    void loadsACheckpointAndNamesABadFile(@TempDir Path dir) throws Exception {
        Model model = ParityTest.model(LSTM, 0.9, 42);
        Path file = dir.resolve("m.safetensors");
        ModelCheckpoint.save(model, file);
        assertEquals(CompiledModel.of(model).score(ParityTest.TEXT),
                CompiledModel.load(file, KernelChoice.AUTO).score(ParityTest.TEXT), 0);
        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, new byte[] {1, 2, 3});
        BadFileException e = assertThrows(BadFileException.class, () -> CompiledModel.load(bad, KernelChoice.AUTO));
        assertTrue(e.getMessage().contains("bad.safetensors"), e.getMessage());
    }

    private static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[best]) {
                best = i;
            }
        }
        return best;
    }
}
