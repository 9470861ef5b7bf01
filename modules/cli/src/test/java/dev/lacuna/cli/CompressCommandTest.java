package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.io.format.LacunaFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompressCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    Path checkpoint;

    @BeforeEach
    void prunedCheckpoint() {
        Model model = Model.initialize(Architecture.of(CellType.LSTM, 5, 4, 32, 2), Vocabulary.of("abcde"), 3);
        SplittableRandom random = new SplittableRandom(3);
        for (TensorSpec spec : model.prunable(false)) {
            boolean[] keep = new boolean[(int) spec.elementCount()];
            for (int i = 0; i < keep.length; i++) {
                keep[i] = random.nextInt(10) == 0;
            }
            model.setMask(spec.name(), keep);
        }
        checkpoint = dir.resolve("pruned.safetensors");
        ModelCheckpoint.save(model, checkpoint);
    }

    @Test
    void compressesAndReportsSizes() throws Exception {
        Path out = dir.resolve("m.lacuna");
        Path report = dir.resolve("report.json");
        CliRun run = CliRun.of("compress", checkpoint.toString(), out.toString(), "--bits", "5", "--huffman",
                "--report-json", report.toString());
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("rnn.weight_hh_l1") && run.out().contains("codebook5"), run::toString);
        JsonNode json = JSON.readTree(report.toFile());
        assertEquals(Files.size(out), json.get("size_bytes").asLong());
        assertEquals(4L * Architecture.of(CellType.LSTM, 5, 4, 32, 2).parameterCount(),
                json.get("dense_fp32_bytes").asLong());
        assertTrue(json.get("ratio").asDouble() > 8, json.toString());
        JsonNode hh = json.get("per_tensor").get(2);
        assertEquals("rnn.weight_hh_l0", hh.get("name").asText());
        assertTrue(hh.get("bits_per_index").asDouble() > 0 && hh.get("bits_per_weight").asDouble() > 0);

        Model read = LacunaFormat.read(out);
        Model original = ModelCheckpoint.load(checkpoint);
        for (String name : original.masks().keySet()) {
            assertArrayEquals(original.mask(name), read.mask(name), name);
        }
    }

    @Test
    void inspectShowsTheEncodingTable() throws Exception {
        Path out = dir.resolve("m.lacuna");
        assertEquals(0, CliRun.of("compress", checkpoint.toString(), out.toString(), "--fp16").exitCode());
        CliRun text = CliRun.of("inspect", out.toString());
        assertEquals(0, text.exitCode(), text::toString);
        assertTrue(text.out().contains("relative/raw + f16") && text.out().contains("dense fp32"), text::toString);
        CliRun json = CliRun.of("inspect", out.toString(), "--json");
        JsonNode encoding = JSON.readTree(json.out()).get("encoding");
        assertEquals(Files.size(out), encoding.get("size_bytes").asLong());
        assertEquals("fp16", encoding.get("precision").asText());
    }

    @Test
    void fineTunedCentroidsAreStoredExactly() throws Exception {
        Path text = TinyText.write(dir, 3000);
        Model model = Model.initialize(Architecture.of(CellType.GRU, Vocabulary.of(Files.readString(text)).size(), 4,
                16, 1), Vocabulary.of(Files.readString(text)), 4);
        Path small = dir.resolve("small.safetensors");
        ModelCheckpoint.save(model, small);
        Path out = dir.resolve("tuned.lacuna");
        Path report = dir.resolve("tuned.json");
        CliRun run = CliRun.of("compress", small.toString(), out.toString(), "--bits", "3", "--fine-tune-steps", "5",
                "--data", text.toString(), "--fine-tune-lr", "1e-3", "--report-json", report.toString());
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("centroid fine-tuning, 5 steps"), run::toString);
        JsonNode json = JSON.readTree(report.toFile());
        assertEquals(5, json.get("fine_tune_steps").asLong());
        Model read = LacunaFormat.read(out);
        assertTrue(read.metadata().get("lacuna.fine_tune").contains("\"bpc_after\""), read.metadata().toString());
        // Re-encoding the read model changes nothing: the file holds the tuned centroids themselves.
        float[] hh = read.tensor(Architecture.weightHh(0, false)).data();
        float[] again = LacunaFormat.encode(read, dev.lacuna.io.format.EncodingOptions.quantized(3)).decoded()
                .tensor(Architecture.weightHh(0, false)).data();
        assertArrayEquals(hh, again);

        CliRun missing = CliRun.of("compress", small.toString(), out.toString(), "--fine-tune-steps", "5");
        assertEquals(2, missing.exitCode());
        assertTrue(missing.err().contains("--fine-tune-steps"), missing::toString);
    }

    @Test
    void badOptionsAndFilesAreOneLineErrors() throws Exception {
        Path out = dir.resolve("m.lacuna");
        CliRun tooMany = CliRun.of("compress", checkpoint.toString(), out.toString(), "--bits", "9");
        assertEquals(2, tooMany.exitCode());
        assertTrue(tooMany.err().contains("--bits"), tooMany::toString);
        CliRun both = CliRun.of("compress", checkpoint.toString(), out.toString(), "--bits", "4", "--fp16");
        assertEquals(2, both.exitCode());
        assertTrue(both.err().contains("--fp16"), both::toString);
        assertFalse(Files.exists(out));

        assertEquals(0, CliRun.of("compress", checkpoint.toString(), out.toString()).exitCode());
        byte[] bytes = Files.readAllBytes(out);
        bytes[bytes.length / 2] ^= 0x10;
        Path damaged = dir.resolve("damaged.lacuna");
        Files.write(damaged, bytes);
        CliRun inspect = CliRun.of("inspect", damaged.toString());
        assertEquals(3, inspect.exitCode());
        assertEquals(1, inspect.errLines().length, inspect::toString);
        assertTrue(inspect.err().contains("damaged.lacuna"), inspect::toString);
    }
}
