package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The bench command's report: which contenders ran, consistent ratios, and errors (no timing assertions). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BenchCommandTest {
    Path dir;
    Path model;

    @BeforeAll
    void setUp(@TempDir Path tempDir) {
        dir = tempDir;
        Vocabulary vocabulary = Vocabulary.of("abcdefgh ");
        Model m = Model.initialize(Architecture.of(CellType.GRU, vocabulary.size(), 0, 16, 1), vocabulary, 1);
        model = dir.resolve("gru.safetensors");
        ModelCheckpoint.save(m, model);
    }

    @Test
    void reportsEveryContenderWithNullForWhatDidNotRun() throws Exception {
        CliRun run = CliRun.of("bench", model.toString(), "--tokens", "8", "--rounds", "3", "--warmup", "1",
                "--json");
        assertEquals(0, run.exitCode(), run.toString());
        JsonNode json = new ObjectMapper().readTree(run.out());
        for (String field : new String[] {"runtime_sparse_ms", "runtime_dense_ms", "nd4j_dense_ms"}) {
            assertTrue(json.get(field).isNumber() && json.get(field).asDouble() > 0, field + " in " + run.out());
        }
        assertTrue(json.get("ort_dense_ms").isNull());
        assertTrue(json.get("speedup_sparse_vs_ort_dense").isNull());
        assertEquals(json.get("runtime_dense_ms").asDouble() / json.get("runtime_sparse_ms").asDouble(),
                json.get("speedup_sparse_vs_runtime_dense").asDouble(), 1e-9);
        assertEquals(1000 / json.get("nd4j_dense_ms").asDouble(), json.get("nd4j_dense_tokens_per_s").asDouble(),
                1e-6);
        assertEquals(3, json.get("rounds").asInt());
    }

    @Test
    void timesOnnxRuntimeWhenGivenAnExport() throws Exception {
        Path onnx = dir.resolve("token-echo.onnx");
        try (var in = getClass().getResourceAsStream("/bench/token-echo.onnx")) {
            Files.copy(in, onnx);
        }
        CliRun run = CliRun.of("bench", model.toString(), "--onnx", onnx.toString(), "--tokens", "4", "--rounds",
                "2", "--warmup", "1", "--threads", "2", "--json");
        assertEquals(0, run.exitCode(), run.toString());
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertEquals(2, json.get("threads").asInt());
        assertTrue(json.get("ort_dense_ms").asDouble() > 0, run.out());
        assertEquals(json.get("ort_dense_ms").asDouble() / json.get("runtime_sparse_ms").asDouble(),
                json.get("speedup_sparse_vs_ort_dense").asDouble(), 1e-9);

        CliRun text = CliRun.of("bench", model.toString(), "--tokens", "4", "--rounds", "1", "--warmup", "0");
        assertEquals(0, text.exitCode(), text.toString());
        assertTrue(text.out().contains("ort_dense        not measured (give --onnx)"), text.out());
    }

    @Test
    void refusesBadOptionsFilesAndBidirectionalModels() throws Exception {
        assertEquals(2, CliRun.of("bench", model.toString(), "--tokens", "0").exitCode());
        assertEquals(2, CliRun.of("bench", model.toString(), "--rounds", "0").exitCode());
        CliRun noThreads = CliRun.of("bench", model.toString(), "--threads", "0");
        assertEquals(2, noThreads.exitCode(), noThreads.toString());
        assertTrue(noThreads.err().contains("--threads"), noThreads.err());

        Path notOnnx = dir.resolve("not.onnx");
        Files.writeString(notOnnx, "hello");
        CliRun bad = CliRun.of("bench", model.toString(), "--onnx", notOnnx.toString(), "--tokens", "2");
        assertEquals(3, bad.exitCode(), bad.toString());
        assertTrue(bad.err().contains("not.onnx"), bad.err());

        Vocabulary vocabulary = Vocabulary.of("ab");
        Path bi = dir.resolve("bi.safetensors");
        ModelCheckpoint.save(Model.initialize(new Architecture(CellType.RNN, 2, 0, 4, 1, true, RnnActivation.TANH,
                true), vocabulary, 1), bi);
        CliRun cloze = CliRun.of("bench", bi.toString(), "--tokens", "2");
        assertEquals(1, cloze.exitCode(), cloze.toString());
        assertTrue(cloze.err().contains("bidirectional"), cloze.err());
    }
}
