package dev.lacuna.io.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every damaged or forged file is a {@link BadFileException} naming the file, section and offset. */
class LacunaFileCorruptionTest {
    static final Path NAME = Path.of("damaged.lacuna");
    static byte[] quantized;
    static byte[] lossless;
    static byte[] planes;

    @BeforeAll
    static void writeSmallFiles(@TempDir Path dir) throws Exception {
        // Huffman only pays on skewed streams: most kept weights share one value, a few are spread out.
        Model skewed = TestModels.pruned(CellType.RNN, 32, 0.85, 8);
        for (String name : skewed.masks().keySet()) {
            float[] data = skewed.tensor(name).data();
            for (int i = 0; i < data.length; i++) {
                if (data[i] != 0f && i % 7 != 0) {
                    data[i] = 0.1f;
                }
            }
        }
        Path q = dir.resolve("q.lacuna");
        LacunaFormat.write(skewed, q, EncodingOptions.quantized(2).withHuffman(true));
        quantized = Files.readAllBytes(q);
        Path l = dir.resolve("l.lacuna");
        LacunaFormat.write(TestModels.pruned(CellType.GRU, 4, 0.6, 8), l, EncodingOptions.lossless());
        lossless = Files.readAllBytes(l);
        Path p = dir.resolve("p.lacuna");
        LacunaFormat.write(F16PlanesTest.positiveWeights(TestModels.pruned(CellType.RNN, 32, 0.85, 8)), p,
                EncodingOptions.fp16().withHuffman(true));
        planes = Files.readAllBytes(p);
    }

    static List<byte[]> files() {
        return List.of(quantized, lossless, planes);
    }

    @Test
    void theSmallFilesAreValidAndExerciseTheInterestingEncodings() {
        LacunaFileReport report = LacunaReader.read(NAME, quantized).report();
        assertTrue(report.tensors().stream().anyMatch(t -> t.codeStream() != null
                && t.codeStream().coding().equals("huffman")), "a Huffman-coded code stream");
        assertTrue(report.tensors().stream().anyMatch(t -> t.layout().equals("relative")), "relative indices");
        LacunaReader.read(NAME, lossless);
        LacunaFileReport halves = LacunaReader.read(NAME, planes).report();
        assertTrue(halves.tensors().stream().anyMatch(t -> t.encoding().equals("relative/raw + f16planes/huffman")),
                () -> "f16 planes with Huffman-coded high bytes: " + halves.tensors());
        // Small enough for the sweeps below to stay fast.
        assertTrue(quantized.length < 2500 && lossless.length < 2500 && planes.length < 3000,
                quantized.length + " " + lossless.length + " " + planes.length);
    }

    @Test
    void everyTruncationIsATypedError() {
        for (byte[] file : files()) {
            for (int length = 0; length < file.length; length++) {
                byte[] cut = Arrays.copyOf(file, length);
                BadFileException e = assertThrows(BadFileException.class, () -> LacunaReader.read(NAME, cut),
                        "truncated to " + length);
                assertTrue(e.getMessage().startsWith(NAME + ": "), e.getMessage());
            }
        }
    }

    @Test
    void everySingleByteFlipIsDetected() {
        for (byte[] file : files()) {
            for (int position = 0; position < file.length; position++) {
                for (int flip : new int[] {0x01, 0x80, 0xFF}) {
                    byte[] damaged = file.clone();
                    damaged[position] ^= (byte) flip;
                    int at = position;
                    assertThrows(BadFileException.class, () -> LacunaReader.read(NAME, damaged),
                            "flip " + flip + " at byte " + at);
                }
            }
        }
    }

    @Test
    void trailingBytesAreRejected() {
        byte[] longer = Arrays.copyOf(lossless, lossless.length + 1);
        assertMessage(longer, "1 bytes follow the last payload");
    }

    @Test
    void messagesNameSectionAndOffset() {
        byte[] badMagic = lossless.clone();
        badMagic[1] = 'X';
        assertMessage(badMagic, "damaged.lacuna: preamble at byte 0: not a .lacuna file");

        byte[] newerMajor = lossless.clone();
        newerMajor[8] = 2;
        assertMessage(newerMajor, "preamble at byte 8: format version 2.0 is not readable by this reader");

        FileSurgery parts = FileSurgery.parse(lossless);
        int last = parts.payloads().size() - 1;
        long lastOffset = lossless.length - parts.payloads().get(last).length;
        byte[] damagedPayload = lossless.clone();
        damagedPayload[damagedPayload.length - 1] ^= 1;
        assertMessage(damagedPayload, "tensor head.bias at byte " + lastOffset + ": CRC32C mismatch");

        byte[] damagedHeader = lossless.clone();
        damagedHeader[30] ^= 1;
        assertMessage(damagedHeader, "header at byte");
    }

    @Test
    void aNewerMinorVersionWithUnknownFieldsIsRead() {
        FileSurgery parts = FileSurgery.parse(quantized);
        String json = new String(parts.header(), StandardCharsets.UTF_8);
        byte[] header = ("{\"added_in_1_3\":{\"x\":[1,2]}," + json.substring(1)).getBytes(StandardCharsets.UTF_8);
        byte[] newer = new FileSurgery(1, 3, header, parts.prefixes(), parts.payloads()).build(new byte[] {9, 9, 9});
        Model expected = LacunaReader.read(NAME, quantized).model();
        Model read = LacunaReader.read(NAME, newer).model();
        for (String name : expected.tensors().keySet()) {
            assertArrayEquals(expected.tensor(name).data(), read.tensor(name).data(), name);
        }
        assertEquals(expected.metadata(), read.metadata());
    }

    @Test
    void unknownEncodingsAndFlagsNeedANewerReader() {
        FileSurgery parts = FileSurgery.parse(lossless);
        for (int field = 1; field <= 3; field++) {
            List<byte[]> prefixes = new ArrayList<>(parts.prefixes());
            byte[] first = prefixes.get(0).clone();
            first[first.length - field] = (byte) (field == 3 ? 0x80 : 7); // value id, layout id, flags
            prefixes.set(0, first);
            byte[] forged = new FileSurgery(1, 1, parts.header(), prefixes, parts.payloads()).build(new byte[0]);
            assertMessage(forged, "needs a newer reader");
        }
    }

    @Test
    void liesAboutCountsAreCaughtBeforeAllocating() {
        FileSurgery parts = FileSurgery.parse(quantized);
        int hh = firstWithRelativeIndices(parts);
        byte[] payload = parts.payloads().get(hh).clone();
        // Relative indices: width at byte 0, symbol count at bytes 1-4.
        ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).putInt(1, Integer.MAX_VALUE);
        List<byte[]> payloads = new ArrayList<>(parts.payloads());
        payloads.set(hh, payload);
        byte[] forged = new FileSurgery(1, 0, parts.header(), parts.prefixes(), payloads).build(new byte[0]);
        assertMessage(forged, "cannot hold 2147483647 symbols");

        byte[] hugeHeader = quantized.clone();
        ByteBuffer preamble = ByteBuffer.wrap(hugeHeader).order(ByteOrder.LITTLE_ENDIAN);
        preamble.putInt(12, 0xFFFF_FFF0);
        preamble.putInt(20, EncodedModel.crc(hugeHeader, 0, 20));
        assertMessage(hugeHeader, "larger than the format allows");
    }

    @Test
    void planesThatClaimMoreBytesThanRemainAreRefusedBeforeAllocating() {
        FileSurgery parts = FileSurgery.parse(planes);
        LacunaFileReport report = LacunaReader.read(NAME, planes).report();
        int t = 0;
        while (!report.tensors().get(t).values().equals("f16planes")) {
            t++;
        }
        TensorReport tensor = report.tensors().get(t);
        int valueStart = (int) tensor.positionBytes();
        // The value block: Huffman coding byte, table (u32 A, then ceil(A/2) bytes), u32 stream length.
        ByteBuffer block = ByteBuffer.wrap(parts.payloads().get(t)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(SymbolStream.HUFFMAN, block.get(valueStart));
        int lengthField = valueStart + 1 + 4 + (block.getInt(valueStart + 1) + 1) / 2;

        byte[] lying = parts.payloads().get(t).clone();
        ByteBuffer.wrap(lying).order(ByteOrder.LITTLE_ENDIAN).putInt(lengthField, Integer.MAX_VALUE);
        assertMessage(withPayload(parts, t, lying), "tensor " + tensor.name() + " at byte");
        assertMessage(withPayload(parts, t, lying), "high byte stream length is 2147483647 bytes but only");

        // Cut right after the position block: the stored count alone proves the low bytes cannot be there.
        byte[] cut = Arrays.copyOf(parts.payloads().get(t), valueStart + 8);
        assertMessage(withPayload(parts, t, cut), "truncated: f16 planes of " + tensor.stored() + " values need at"
                + " least " + (tensor.stored() + 5) + " bytes, 8 remain");
    }

    private static byte[] withPayload(FileSurgery parts, int index, byte[] payload) {
        List<byte[]> payloads = new ArrayList<>(parts.payloads());
        payloads.set(index, payload);
        return new FileSurgery(parts.major(), parts.minor(), parts.header(), parts.prefixes(), payloads)
                .build(new byte[0]);
    }

    @Test
    void aHeaderDeclaringAGiantModelIsRefusedBeforeDecoding() {
        FileSurgery parts = FileSurgery.parse(lossless);
        String json = new String(parts.header(), StandardCharsets.UTF_8).replace("\"hidden_size\":4",
                "\"hidden_size\":2000000000");
        byte[] forged = new FileSurgery(1, 0, json.getBytes(StandardCharsets.UTF_8), parts.prefixes(),
                parts.payloads()).build(new byte[0]);
        assertThrows(BadFileException.class, () -> LacunaReader.read(NAME, forged));
    }

    /** Entry prefixes end with flags, layout id and value id. */
    private static int firstWithRelativeIndices(FileSurgery parts) {
        for (int i = 0; i < parts.prefixes().size(); i++) {
            byte[] prefix = parts.prefixes().get(i);
            if (prefix[prefix.length - 2] == RelativeIndices.ID) {
                return i;
            }
        }
        throw new AssertionError("no tensor with relative indices");
    }

    private static void assertMessage(byte[] file, String expected) {
        BadFileException e = assertThrows(BadFileException.class, () -> LacunaReader.read(NAME, file));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
