package dev.lacuna.io.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LacunaFormatTest {
    @TempDir
    Path dir;

    static Stream<Arguments> lossyOptions() {
        return Stream.of(
                Arguments.of(CellType.LSTM, EncodingOptions.fp16()),
                Arguments.of(CellType.LSTM, EncodingOptions.quantized(5)),
                Arguments.of(CellType.GRU, EncodingOptions.quantized(5).withHuffman(true)),
                Arguments.of(CellType.RNN, EncodingOptions.quantized(2).withHuffman(true).withIndexBits(3)),
                Arguments.of(CellType.LSTM, EncodingOptions.quantized(8).withPerGateCodebooks(false)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("lossyOptions")
    void theReaderReturnsExactlyThePromisedModel(CellType cell, EncodingOptions options) throws IOException {
        Model model = TestModels.pruned(cell, 16, 0.9, 1);
        EncodedModel encoded = LacunaFormat.encode(model, options);
        Path file = dir.resolve("m.lacuna");
        encoded.write(file);
        Model expected = encoded.decoded();
        Model loaded = LacunaFormat.read(file);

        assertEquals(model.architecture(), loaded.architecture());
        assertEquals(model.vocabulary(), loaded.vocabulary());
        assertEquals(model.metadata(), loaded.metadata());
        for (Tensor t : expected.tensors().values()) {
            assertArrayEquals(AbstractEncodingRoundTripTest.bits(t.data()),
                    AbstractEncodingRoundTripTest.bits(loaded.tensor(t.name()).data()), t.name());
            assertArrayEquals(model.mask(t.name()), loaded.mask(t.name()), t.name() + " mask");
        }
        assertEquals(encoded.report(), LacunaFormat.inspect(file), "writer and reader account alike");
        assertEquals(encoded.sizeBytes(), Files.size(file.toAbsolutePath()));
    }

    @Test
    void quantizedWeightMatricesUseAtMostTwoToTheBitsValuesPerGateBlock() {
        Model model = TestModels.pruned(CellType.LSTM, 32, 0.5, 2);
        Model loaded = LacunaFormat.encode(model, EncodingOptions.quantized(3)).decoded();
        float[] w = loaded.tensor(Architecture.weightHh(0, false)).data();
        int blockSize = w.length / 4;
        for (int gate = 0; gate < 4; gate++) {
            Set<Float> distinct = new HashSet<>();
            for (int i = gate * blockSize; i < (gate + 1) * blockSize; i++) {
                if (w[i] != 0f) {
                    distinct.add(w[i]);
                }
            }
            assertTrue(distinct.size() <= 8 && distinct.size() >= 6, "gate " + gate + ": " + distinct.size());
        }
        float[] original = model.tensor(Architecture.weightHh(0, false)).data();
        boolean[] keep = model.mask(Architecture.weightHh(0, false));
        for (int i = 0; i < w.length; i++) {
            assertEquals(keep[i], w[i] != 0f, "zeros stay zero and kept weights stay non-zero");
            if (keep[i]) {
                assertTrue(Math.abs(w[i] - original[i]) < 0.1, "element " + i);
            }
        }
    }

    @Test
    void theWriterKeepsTheSmallestEncodingPerTensor() {
        Model model = TestModels.pruned(CellType.LSTM, 64, 0.9, 3);
        LacunaFileReport report = LacunaFormat.encode(model, EncodingOptions.quantized(5).withHuffman(true))
                .report();
        TensorReport hh = find(report, Architecture.weightHh(0, false));
        assertEquals("relative", hh.layout());
        assertEquals("codebook5", hh.values());
        TensorReport bias = find(report, Architecture.biasIh(0, false));
        // Biases are not shared (Deep Compression quantizes weights): half precision, as plain f16 or, with
        // Huffman, as f16 planes when those are smaller.
        assertEquals("all", bias.layout());
        assertTrue(bias.values().equals("f16") || bias.values().equals("f16planes"), bias.encoding());
        TensorReport embedding = find(report, Architecture.EMBEDDING);
        assertEquals("f16", embedding.values(), "18 weights cannot pay for a 32-entry codebook");
        assertTrue(report.ratio() > 15, "ratio " + report.ratio());

        LacunaFileReport dense = LacunaFormat.encode(TestModels.pruned(CellType.LSTM, 64, 0.0, 3),
                EncodingOptions.lossless()).report();
        assertEquals("all", find(dense, Architecture.weightHh(0, false)).layout());
        TensorReport half = find(LacunaFormat.encode(TestModels.pruned(CellType.LSTM, 64, 0.3, 3),
                EncodingOptions.lossless()).report(), Architecture.weightHh(0, false));
        assertEquals("bitmap", half.layout(), "at 30% sparsity one bit per element beats relative indices");
    }

    @Test
    void theSameModelGivesTheSameBytes() throws IOException {
        EncodingOptions options = EncodingOptions.quantized(4).withHuffman(true);
        LacunaFormat.write(TestModels.pruned(CellType.GRU, 16, 0.8, 4), dir.resolve("a.lacuna"), options);
        LacunaFormat.write(TestModels.pruned(CellType.GRU, 16, 0.8, 4), dir.resolve("b.lacuna"), options);
        assertArrayEquals(Files.readAllBytes(dir.resolve("a.lacuna")), Files.readAllBytes(dir.resolve("b.lacuna")));
    }

    @Test
    void quantizingANonFiniteWeightIsAnOptionError() {
        Model model = TestModels.pruned(CellType.RNN, 8, 0.0, 5);
        model.tensor(Architecture.HEAD_WEIGHT).data()[3] = Float.NaN;
        InvalidOptionException e = assertThrows(InvalidOptionException.class,
                () -> LacunaFormat.encode(model, EncodingOptions.quantized(5)));
        assertTrue(e.getMessage().contains("head.weight") && e.getMessage().contains("element 3"), e.getMessage());
        // Losslessly the NaN is kept bit for bit.
        Model back = LacunaFormat.encode(model, EncodingOptions.lossless()).decoded();
        assertTrue(Float.isNaN(back.tensor(Architecture.HEAD_WEIGHT).data()[3]));
    }

    @Test
    void optionsAreValidated() {
        assertThrows(InvalidOptionException.class, () -> EncodingOptions.quantized(1));
        assertThrows(InvalidOptionException.class, () -> EncodingOptions.quantized(9));
        assertThrows(InvalidOptionException.class, () -> EncodingOptions.lossless().withIndexBits(17));
        assertEquals("--index-bits", assertThrows(InvalidOptionException.class,
                () -> EncodingOptions.fp16().withIndexBits(-1)).option());
    }

    static TensorReport find(LacunaFileReport report, String name) {
        return report.tensors().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
    }
}
