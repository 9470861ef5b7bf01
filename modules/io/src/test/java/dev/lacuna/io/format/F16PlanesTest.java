package dev.lacuna.io.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * f16 planes (format 1.1) hold exactly the values of the f16 coding, the writer uses them only when asked for Huffman
 * and when they are smaller, and files are stamped 1.1 only when they use them (format.md §8). The shared round trip
 * runs in {@link EncodingRoundTripTests}.
 */
class F16PlanesTest {
    private static final Path FILE = Path.of("planes.lacuna");

    /** Gaussian weights of several scales, random bit patterns (NaN payloads too) and every special case of §6.5. */
    static float[] randomAndSpecialValues() {
        SplittableRandom random = new SplittableRandom(16);
        List<Float> values = new ArrayList<>(List.of(0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 0x1p-24f, 0x1p-25f,
                0x1.8p-25f, 0x1p-14f, 0x1.ff8p-15f, 65504f, 65519.99f, 65520f, -65520f, Float.MAX_VALUE,
                -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
                Float.intBitsToFloat(0x7FC0_1234), Float.intBitsToFloat(0x7FC2_4000),
                Float.intBitsToFloat(0xFF80_0001), Float.intBitsToFloat(0x7F80_2000),
                1f + 0x1p-11f, 1f + 0x1.8p-11f, -(1f + 0x1p-11f)));
        for (double scale : new double[] {1e-4, 0.05, 0.3, 4, 3000}) {
            for (int i = 0; i < 400; i++) {
                values.add((float) random.nextGaussian(0, scale));
            }
        }
        for (int i = 0; i < 2000; i++) {
            values.add(Float.intBitsToFloat(random.nextInt()));
        }
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    @Test
    void planesHoldTheF16ValuesBitForBit() {
        float[] values = randomAndSpecialValues();
        ValueCoding.Encoded half = F16Values.INSTANCE.encode(values, null, values.length);
        ValueCoding.Encoded planes = F16Planes.INSTANCE.encode(values, null, values.length);
        int[] expected = AbstractEncodingRoundTripTest.bits(half.decoded());
        assertArrayEquals(expected, AbstractEncodingRoundTripTest.bits(planes.decoded()), "what the encoders promise");

        float[] fromHalf = decode(F16Values.INSTANCE, half.bytes(), values.length).values();
        ValueCoding.Decoded fromPlanes = decode(F16Planes.INSTANCE, planes.bytes(), values.length);
        assertArrayEquals(expected, AbstractEncodingRoundTripTest.bits(fromHalf));
        assertArrayEquals(expected, AbstractEncodingRoundTripTest.bits(fromPlanes.values()));
        assertEquals("f16planes", fromPlanes.label());
        assertEquals(planes.stream(), fromPlanes.stream(), "reader and writer account for the high bytes alike");

        // The low plane is the tail of the payload: the low bytes of the f16 values, in order.
        ByteBuffer f16 = ByteBuffer.wrap(half.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        int lowStart = planes.bytes().length - values.length;
        for (int i = 0; i < values.length; i++) {
            assertEquals(f16.get(2 * i), planes.bytes()[lowStart + i], "low byte " + i);
        }
    }

    @Test
    void theHighBytesOfWeightsAreHuffmanCodedNearTheirEntropy() {
        SplittableRandom random = new SplittableRandom(3);
        float[] weights = new float[20_000];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) random.nextGaussian(0, 0.1);
        }
        ValueCoding.Encoded planes = F16Planes.INSTANCE.encode(weights, null, weights.length);
        StreamStats high = planes.stream();
        assertEquals("huffman", high.coding());
        assertEquals(weights.length, high.symbols());
        assertEquals(8, high.width());
        // A Gaussian's exponents span a few binades: about 5 bits of entropy, not 8.
        assertTrue(high.entropyBits() > 4 && high.entropyBits() < 6, "entropy " + high.entropyBits());
        assertTrue(high.efficiency() > 0.98, "efficiency " + high.efficiency());
        assertTrue(planes.bytes().length < 0.85 * 2 * weights.length, planes.bytes().length + " bytes");
    }

    @Test
    void theWriterUsesPlanesOnlyWithHuffmanAndStampsThoseFilesOneOne() {
        Model model = positiveWeights(TestModels.pruned(CellType.LSTM, 32, 0.5, 6));
        EncodedModel plain = LacunaFormat.encode(model, EncodingOptions.fp16());
        assertTrue(plain.report().tensors().stream().allMatch(t -> t.values().equals("f16")));
        assertEquals("1.0", plain.formatVersion());

        EncodedModel huffman = LacunaFormat.encode(model, EncodingOptions.fp16().withHuffman(true));
        TensorReport hh = LacunaFormatTest.find(huffman.report(), Architecture.weightHh(0, false));
        assertEquals("f16planes", hh.values());
        assertEquals("huffman", hh.codeStream().coding());
        assertEquals("1.1", huffman.formatVersion());
        assertTrue(huffman.sizeBytes() < plain.sizeBytes());
        // Same values either way: the planes are lossless with respect to f16.
        Model a = plain.decoded();
        Model b = huffman.decoded();
        for (String name : a.tensors().keySet()) {
            assertArrayEquals(AbstractEncodingRoundTripTest.bits(a.tensor(name).data()),
                    AbstractEncodingRoundTripTest.bits(b.tensor(name).data()), name);
        }
        byte[] file = bytes(huffman);
        assertEquals(1, file[10] | file[11] << 8, "preamble minor version");
        assertEquals(0, bytes(plain)[10], "preamble minor version");
        Model read = LacunaReader.read(FILE, file).model();
        for (String name : b.tensors().keySet()) {
            assertArrayEquals(AbstractEncodingRoundTripTest.bits(b.tensor(name).data()),
                    AbstractEncodingRoundTripTest.bits(read.tensor(name).data()), name);
            assertArrayEquals(model.mask(name), read.mask(name), name + " mask");
        }
    }

    @Test
    void quantizedFilesUsePlanesForTheirHalfPrecisionTensorsUnderHuffman() {
        // The f16 tensors of quantized precision (biases here) follow the same switch. A positive bias keeps the
        // Huffman table of this small model short (see positiveWeights).
        Model model = TestModels.pruned(CellType.RNN, 128, 0.9, 7);
        float[] bias = model.tensor(Architecture.biasHh(0, false)).data();
        for (int i = 0; i < bias.length; i++) {
            bias[i] = Math.abs(bias[i]);
        }
        EncodedModel encoded = LacunaFormat.encode(model, EncodingOptions.quantized(4).withHuffman(true));
        TensorReport report = LacunaFormatTest.find(encoded.report(), Architecture.biasHh(0, false));
        assertEquals("all + f16planes/huffman", report.encoding());
        assertEquals("1.1", encoded.formatVersion());
        assertEquals("1.0", LacunaFormat.encode(model, EncodingOptions.quantized(4)).formatVersion());
    }

    @Test
    void aReaderOfOneZeroNeedsANewerReader() {
        assertNull(ValueCoding.forId(F16Planes.ID, 0));
        assertSame(F16Planes.INSTANCE, ValueCoding.forId(F16Planes.ID));
        assertSame(F16Values.INSTANCE, ValueCoding.forId(F16Values.ID, 0));

        float[] values = randomAndSpecialValues();
        TensorEncoder.Result encoded = TensorEncoder.encodeWith("rnn.weight_hh_l0", new int[] {values.length},
                values, null, AllPositions.INSTANCE, F16Planes.INSTANCE);
        LacunaFile.Entry entry = new LacunaFile.Entry(encoded.name(), encoded.shape(), 0, AllPositions.ID,
                F16Planes.ID, 4096, encoded.payload().length, 0);
        BadFileException e = assertThrows(BadFileException.class, () -> TensorDecoder.decode(FILE, entry,
                new Cursor(FILE, "tensor t", ByteBuffer.wrap(encoded.payload()), 4096), 0));
        assertTrue(e.getMessage().contains("at byte 4096: tensor 'rnn.weight_hh_l0' uses value coding id 3, which"
                + " format 1.0 does not define; it needs a newer reader"), e.getMessage());
    }

    @Test
    void aFileStampedOneZeroMustNotUsePlanes() {
        byte[] file = bytes(LacunaFormat.encode(positiveWeights(TestModels.pruned(CellType.GRU, 32, 0.5, 6)),
                EncodingOptions.fp16().withHuffman(true)));
        FileSurgery parts = FileSurgery.parse(file);
        assertEquals(1, parts.minor());
        byte[] understated = new FileSurgery(1, 0, parts.header(), parts.prefixes(), parts.payloads())
                .build(new byte[0]);
        BadFileException e = assertThrows(BadFileException.class, () -> LacunaReader.read(FILE, understated));
        assertTrue(e.getMessage().contains("uses value coding f16planes (id 3) of format 1.1, but the file says it is"
                + " format 1.0"), e.getMessage());
    }

    private static ValueCoding.Decoded decode(ValueCoding coding, byte[] bytes, int count) {
        Cursor in = new Cursor(FILE, "tensor t", ByteBuffer.wrap(bytes), 0);
        ValueCoding.Decoded decoded = coding.decode(in, null, count, count);
        in.expectEnd();
        return decoded;
    }

    /**
     * Kept weights made positive: the high bytes then use symbols below 0x80, so a small test model's Huffman table
     * is short enough to pay for itself (real models are large enough not to need this).
     */
    static Model positiveWeights(Model model) {
        for (String name : model.masks().keySet()) {
            float[] data = model.tensor(name).data();
            for (int i = 0; i < data.length; i++) {
                data[i] = Math.abs(data[i]);
            }
        }
        return model;
    }

    private static byte[] bytes(EncodedModel encoded) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            encoded.writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
