package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.train.Evaluator;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunCommandTest {
    static final String TEXT = "the whale sees the ship. a sailor fears the sea.";
    Path model;
    Model m;

    @BeforeAll
    void setUp(@TempDir Path dir) {
        Vocabulary vocabulary = Vocabulary.of(TEXT);
        m = Model.initialize(Architecture.of(CellType.LSTM, vocabulary.size(), 6, 12, 2), vocabulary, 3);
        model = dir.resolve("model.safetensors");
        ModelCheckpoint.save(m, model);
    }

    @Test
    void scoresTextAsTheEvaluatorDoes() throws Exception {
        CliRun run = CliRun.of("run", model.toString(), "--text", TEXT, "--json");
        assertEquals(0, run.exitCode(), run.toString());
        JsonNode json = new ObjectMapper().readTree(run.out());
        int[] ids = TEXT.chars().map(c -> m.vocabulary().indexOf(c)).toArray();
        assertEquals(Evaluator.bpc(m, ids, 1, 100), json.get("bpc").asDouble(), 1e-4);
        assertEquals(TEXT.length(), json.get("characters").asInt());
        assertEquals("auto", json.get("kernels").asText());

        CliRun text = CliRun.of("run", model.toString(), "--text", TEXT, "--kernels", "dense");
        assertEquals(0, text.exitCode(), text.toString());
        assertTrue(text.out().matches("\\d+\\.\\d{4} bits per character over 48 characters\\s*"), text.out());
    }

    @Test
    void generatesReproduciblyFromASeed() throws Exception {
        CliRun a = CliRun.of("run", model.toString(), "--text", "the ", "--generate", "30", "--seed", "5", "--json");
        CliRun b = CliRun.of("run", model.toString(), "--text", "the ", "--generate", "30", "--seed", "5", "--json");
        assertEquals(0, a.exitCode(), a.toString());
        JsonNode json = new ObjectMapper().readTree(a.out());
        String generated = json.get("generated").asText();
        assertEquals(30, generated.length());
        assertEquals(a.out(), b.out());
        for (char c : generated.toCharArray()) {
            assertTrue(m.vocabulary().indexOf(c) >= 0);
        }
        CliRun plain = CliRun.of("run", model.toString(), "--text", "the ", "--generate", "30", "--seed", "5");
        assertEquals("the " + generated, plain.out().strip());
        CliRun threads = CliRun.of("run", model.toString(), "--text", "the ", "--generate", "30", "--seed", "5",
                "--threads", "2", "--json");
        assertEquals(a.out(), threads.out(), "the thread count does not change the output");
    }

    @Test
    void badInputGivesOneLineAndTheRightExitCode(@TempDir Path dir) throws Exception {
        CliRun unknown = CliRun.of("run", model.toString(), "--text", "the Whale");
        assertEquals(2, unknown.exitCode(), unknown.toString());
        assertEquals(1, unknown.errLines().length, unknown.toString());
        assertTrue(unknown.err().contains("'W' (U+0057) at offset 4"), unknown.err());

        CliRun kernels = CliRun.of("run", model.toString(), "--text", TEXT, "--kernels", "fast");
        assertEquals(2, kernels.exitCode());
        assertTrue(kernels.err().contains("--kernels"), kernels.err());
        CliRun threads = CliRun.of("run", model.toString(), "--text", TEXT, "--threads", "0");
        assertEquals(2, threads.exitCode(), threads.toString());
        assertTrue(threads.err().contains("--threads"), threads.err());

        Path corrupt = dir.resolve("corrupt.safetensors");
        Files.write(corrupt, new byte[] {9, 9, 9, 9, 9, 9, 9, 9, 9, 9});
        CliRun bad = CliRun.of("run", corrupt.toString(), "--text", TEXT);
        assertEquals(3, bad.exitCode(), bad.toString());
        assertTrue(bad.err().contains("corrupt.safetensors"), bad.err());

        CliRun temperature = CliRun.of("run", model.toString(), "--text", "the", "--generate", "3",
                "--temperature", "-1");
        assertEquals(2, temperature.exitCode());
        assertTrue(temperature.err().contains("--temperature"), temperature.err());
    }
}
