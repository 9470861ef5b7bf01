package dev.lacuna.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.BadFileException;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.io.SafetensorsWriter;
import dev.lacuna.train.CharCorpus;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #8, item 2: a small file that declares an enormous size is refused with a typed error before anything of
 * that size is allocated. The surefire heap of this module is 256 MB, so a reader that trusted the declaration would
 * fail here with {@code OutOfMemoryError} rather than pass slowly. The {@code @Timeout}s only guard against hangs.
 *
 * <p>The safetensors container has this test already, beside its other checks:
 * {@code SafetensorsFileTest.smallFileDeclaringATrillionElementsFailsWithoutAllocating} (modules/io).
 */
@Timeout(30)
class AllocationGuardTest {
    private static final long TRILLION = 1_000_000_000_000L;

    @TempDir
    Path dir;

    @Test
    void checkpointWhoseArchitectureDeclaresTrillionsOfWeights() throws IOException {
        // hidden 10^6: each recurrent matrix of this LSTM would hold 4 * 10^12 floats.
        Path file = checkpoint("huge-hidden.safetensors", "{\"cell\":\"lstm\",\"vocab_size\":2,\"embed_dim\":4,"
                + "\"hidden_size\":1000000,\"layers\":1,\"bidirectional\":false,\"activation\":\"tanh\","
                + "\"linear_before_reset\":true}");
        BadFileException e = refused(file, ModelCheckpoint::load);
        assertTrue(e.getMessage().contains("missing tensor 'embedding.weight'"), e::getMessage);
    }

    @Test
    void checkpointWhoseArchitectureDeclaresABillionLayers() throws IOException {
        Path file = checkpoint("deep.safetensors", "{\"cell\":\"gru\",\"vocab_size\":2,\"embed_dim\":4,"
                + "\"hidden_size\":8,\"layers\":1000000000,\"bidirectional\":true,\"activation\":\"tanh\","
                + "\"linear_before_reset\":true}");
        BadFileException e = refused(file, ModelCheckpoint::load);
        assertTrue(e.getMessage().contains("declares 1000000000 layer(s)"), e::getMessage);
    }

    @Test
    void textFileOfATrillionBytes() throws IOException {
        Path file = dir.resolve("huge.txt");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write("the whale".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            raf.setLength(TRILLION); // sparse: the size is declared by the file system, no disk space is used
        }
        BadFileException e = refused(file, f -> CharCorpus.load(f, null));
        assertTrue(e.getMessage().contains("are not supported"), e::getMessage);
    }

    /** A checkpoint of about 1 KB with the given architecture metadata and six tiny tensors. */
    private Path checkpoint(String name, String architecture) throws IOException {
        Path file = dir.resolve(name);
        SafetensorsWriter writer = new SafetensorsWriter();
        for (int i = 0; i < 6; i++) {
            writer.addF32("t" + i, new int[] {2}, new float[] {0.5f, -0.5f});
        }
        writer.putMetadata(ModelCheckpoint.FORMAT_KEY, ModelCheckpoint.FORMAT)
                .putMetadata(ModelCheckpoint.ARCHITECTURE_KEY, architecture)
                .putMetadata(ModelCheckpoint.VOCABULARY_KEY, "[97,98]")
                .write(file);
        assertTrue(Files.size(file) <= 1024, "a small file");
        return file;
    }

    private static <T> BadFileException refused(Path file, Function<Path, T> reader) {
        BadFileException e = assertThrows(BadFileException.class, () -> reader.apply(file));
        assertEquals(file, e.file());
        return e;
    }
}
