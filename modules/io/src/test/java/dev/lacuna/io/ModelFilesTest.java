package dev.lacuna.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.format.LacunaModelFormat;
import dev.lacuna.io.npz.NpzFile;
import dev.lacuna.io.npz.NpzModelFormat;
import dev.lacuna.io.statedict.SafetensorsModelFormat;
import dev.lacuna.io.statedict.StateDictImporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Choosing a format by extension, and converting between io's formats. */
class ModelFilesTest {
    @TempDir
    Path dir;

    private static Model model() {
        Model m = Model.initialize(new Architecture(CellType.LSTM, 5, 3, 4, 1, true, null, true),
                Vocabulary.of("abcde"), 3);
        boolean[] keep = new boolean[m.tensor(Architecture.HEAD_WEIGHT).size()];
        for (int i = 0; i < keep.length; i += 2) {
            keep[i] = true;
        }
        m.setMask(Architecture.HEAD_WEIGHT, keep);
        m.applyMasks();
        m.metadata().put("lacuna.method", "n17");
        return m;
    }

    @Test
    void choosesTheFormatByExtensionCaseInsensitively() {
        assertTrue(ModelFiles.formatFor(Path.of("m.safetensors")) instanceof SafetensorsModelFormat);
        assertTrue(ModelFiles.formatFor(Path.of("dir.x/M.NPZ")) instanceof NpzModelFormat);
        assertTrue(ModelFiles.formatFor(Path.of("m.lacuna")) instanceof LacunaModelFormat);
        List<String> ids = ModelFiles.formats().stream().map(ModelFormat::id).toList();
        assertTrue(ids.containsAll(List.of("safetensors", "npz", "lacuna")), ids.toString());
    }

    @Test
    void formatsOfOtherModulesPlugInThroughServiceLoaderAndTheLongestExtensionWins() {
        assertTrue(ModelFiles.formatFor(Path.of("m.plugged")) instanceof PluggedTestFormat);
        assertTrue(ModelFiles.formatFor(Path.of("m.x.safetensors")) instanceof PluggedTestFormat);
        assertTrue(ModelFiles.formatFor(Path.of("m.y.safetensors")) instanceof SafetensorsModelFormat);
        Path file = dir.resolve("m.plugged");
        ModelFiles.write(model(), file);
        assertEquals("plugged-test", ModelFiles.read(file).metadata().get("read-by"));
    }

    @Test
    void unknownExtensionsAreAnOptionErrorListingTheKnownOnes() {
        InvalidOptionException e = assertThrows(InvalidOptionException.class,
                () -> ModelFiles.read(dir.resolve("model.pt")));
        assertTrue(e.getMessage().contains("model.pt") && e.getMessage().contains(".npz")
                && e.getMessage().contains(".safetensors") && e.getMessage().contains(".plugged"), e.getMessage());
        assertThrows(InvalidOptionException.class, () -> ModelFiles.write(model(), dir.resolve("model")));
        assertFalse(Files.exists(dir.resolve("model")));
    }

    @Test
    void convertsBetweenSafetensorsAndNpzKeepingEverything() {
        Model original = model();
        Path st = dir.resolve("a.safetensors");
        Path npz = dir.resolve("b.npz");
        ModelFiles.write(original, st);
        ModelFiles.write(ModelFiles.read(st), npz);
        Model back = ModelFiles.read(npz);
        assertEquals(original.architecture(), back.architecture());
        assertEquals(original.vocabulary(), back.vocabulary());
        assertEquals(original.metadata(), back.metadata());
        for (Tensor t : original.tensors().values()) {
            assertArrayEquals(t.data(), back.tensor(t.name()).data(), t.name());
        }
        assertArrayEquals(original.mask(Architecture.HEAD_WEIGHT), back.mask(Architecture.HEAD_WEIGHT));
        assertEquals(original.masks().keySet(), back.masks().keySet());
        assertTrue(NpzFile.read(npz).arrays().containsKey(NpzModelFormat.METADATA_ARRAY));
    }

    @Test
    void aPlainStateDictInSafetensorsIsImportedAndACheckpointLoadedAsSuch() {
        Model original = model();
        Path plain = dir.resolve("plain.safetensors");
        SafetensorsWriter writer = new SafetensorsWriter();
        for (Tensor t : original.tensors().values()) {
            writer.addF32(t.name(), t.shape(), t.data());
        }
        writer.putMetadata("format", "pt").write(plain);
        Model imported = ModelFiles.read(plain);
        assertEquals(original.architecture(), imported.architecture());
        assertEquals("true", imported.metadata().get(StateDictImporter.PLACEHOLDER_VOCABULARY_KEY));
        assertEquals("plain.safetensors", imported.metadata().get(StateDictImporter.IMPORTED_FROM_KEY));
        assertFalse(imported.metadata().containsKey("format"));

        Path checkpoint = dir.resolve("c.safetensors");
        ModelCheckpoint.save(original, checkpoint);
        assertEquals(original.metadata(), ModelFiles.read(checkpoint).metadata());
    }

    @Test
    void aBadNpzIsAFileErrorNamingIt() {
        Path bad = dir.resolve("bad.npz");
        RawSafetensors.write(bad, new byte[] {1, 2, 3});
        BadFileException e = assertThrows(BadFileException.class, () -> ModelFiles.read(bad));
        assertEquals(bad, e.file());
    }
}
