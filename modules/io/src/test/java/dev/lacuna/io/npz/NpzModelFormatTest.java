package dev.lacuna.io.npz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.Vocabulary;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Lacuna layout inside an npz, and npz files that claim to be Lacuna's but are not. */
class NpzModelFormatTest {
    @TempDir
    Path dir;

    private final NpzModelFormat format = new NpzModelFormat();

    private static Model model() {
        return Model.initialize(Architecture.of(CellType.GRU, 3, 0, 2, 1), Vocabulary.of("xyz"), 4);
    }

    /** The model's tensors, plus whatever {@code extra} adds. */
    private Path file(java.util.function.Consumer<NpzWriter> extra) {
        NpzWriter w = new NpzWriter();
        for (Tensor t : model().tensors().values()) {
            w.addF32(t.name(), t.shape(), t.data());
        }
        extra.accept(w);
        Path file = dir.resolve("m.npz");
        w.write(file);
        return file;
    }

    @Test
    void storesWeightsMasksAndMetadataAsPlainNumpyArrays() {
        Model m = model();
        boolean[] keep = new boolean[m.tensor("rnn.weight_hh_l0").size()];
        keep[0] = true;
        m.setMask("rnn.weight_hh_l0", keep);
        Path file = dir.resolve("m.npz");
        format.write(m, file);
        NpzFile npz = NpzFile.read(file);
        assertEquals("<f4", npz.arrays().get("rnn.weight_hh_l0").descr());
        float[] stored = npz.floats("rnn.weight_hh_l0");
        assertEquals(m.tensor("rnn.weight_hh_l0").data()[0], stored[0]);
        assertEquals(0f, stored[1], "pruned weights are stored as zeros");
        assertEquals("|b1", npz.arrays().get("rnn.weight_hh_l0_mask").descr());
        String meta = npz.arrays().get(NpzModelFormat.METADATA_ARRAY).string();
        assertTrue(meta.contains("\"lacuna.format\":\"lacuna-npz/1\""), meta);
        assertTrue(meta.contains("\"lacuna.vocabulary\":\"[120,121,122]\""), meta);
    }

    @Test
    void readsTheMetadataArrayOfAPlainStateDict() {
        Path file = file(w -> w.addString(NpzModelFormat.METADATA_ARRAY,
                "{\"lacuna.vocabulary\": \"[120,121,122]\", \"source\": \"hand-made\"}"));
        Model m = format.read(file);
        assertEquals(Vocabulary.of("xyz"), m.vocabulary());
        assertEquals("hand-made", m.metadata().get("source"));
        assertArrayEquals(model().tensor("head.weight").data(), m.tensor("head.weight").data());
    }

    @Test
    void refusesForeignFormatsStrayTextAndBadMetadata() {
        assertBad(file(w -> w.addString(NpzModelFormat.METADATA_ARRAY, "{\"lacuna.format\": \"lacuna-npz/9\"}")),
                "'lacuna-npz/9'");
        assertBad(file(w -> w.addString(NpzModelFormat.METADATA_ARRAY, "[1, 2]")), "JSON object");
        assertBad(file(w -> w.addString(NpzModelFormat.METADATA_ARRAY, "{\"a\": 1}")), "entry 'a' must be a string");
        assertBad(file(w -> w.addString("notes", "hello")), "array 'notes' holds text");
        assertBad(file(w -> w.addF32(NpzModelFormat.METADATA_ARRAY, new int[] {1}, new float[] {1})),
                "expected one string");
    }

    private static void assertBad(Path file, String fragment) {
        BadFileException e = assertThrows(BadFileException.class, () -> new NpzModelFormat().read(file));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }
}
