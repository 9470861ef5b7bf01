package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lacuna compare --checkpoint-every N --resume} (issue #8 item 4): a comparison killed in a child JVM while
 * han, its second method, trains, then resumed in process, writes the same models and the same report.json as an
 * uninterrupted run, apart from the measured times and the machine section (docs/reliability.md).
 */
class CompareResumeCommandTest {
    private static final List<String> MODELS = List.of("gradual", "han", "oneshot");

    @TempDir
    static Path shared;
    static Path text;
    static Path trained;

    @TempDir
    Path dir;

    @BeforeAll
    static void trainInput() throws IOException {
        text = TinyText.write(shared, 600);
        trained = shared.resolve("dense.safetensors");
        CliRun run = CliRun.of("train", "--data", text.toString(), "--cell", "lstm", "--layers", "1", "--hidden", "8",
                "--embed", "8", "--batch", "16", "--seq", "40", "--steps", "30", "--seed", "5", "--threads", "1",
                "--out", trained.toString());
        assertEquals(0, run.exitCode(), run::toString);
    }

    private static List<String> compare(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("compare", "--model", trained.toString(), "--data",
                text.toString(), "--target-sparsity", "0.6", "--methods", "gradual,han,oneshot", "--steps", "40",
                "--han-rounds", "2", "--han-round-steps", "40", "--batch", "16", "--seq", "40", "--seed", "3",
                "--threads", "1", "--save-models", "--out", out.toString()));
        args.addAll(List.of(extra));
        return args;
    }

    @Test
    void killedComparisonResumesToTheSameModelsAndReport() throws Exception {
        Path reference = dir.resolve("reference");
        CliRun uninterrupted = CliRun.of(compare(reference).toArray(String[]::new));
        assertEquals(0, uninterrupted.exitCode(), uninterrupted::toString);

        Path out = dir.resolve("resumed");
        Path hanCheckpoint = out.resolve("han.resume");
        ChildCli.killOnceExists(compare(out, "--checkpoint-every", "5"), dir.resolve("child.log"), hanCheckpoint);
        assertTrue(Files.exists(out.resolve("compare.resume")), "gradual's record must have been saved");
        assertFalse(new ObjectMapper().readTree(out.resolve("report.json").toFile()).get("complete").asBoolean(),
                "the child finished before it was killed; the test needs a longer run");

        // Another target is another comparison: refused before anything is trained or overwritten.
        List<String> other = compare(out, "--checkpoint-every", "5", "--resume");
        other.set(other.indexOf("0.6"), "0.5");
        CliRun refused = CliRun.of(other.toArray(String[]::new));
        assertEquals(2, refused.exitCode(), refused::toString);
        assertTrue(refused.err().contains("--resume") && refused.err().contains("different comparison"),
                refused::toString);

        CliRun resumed = CliRun.of(compare(out, "--checkpoint-every", "5", "--resume").toArray(String[]::new));
        assertEquals(0, resumed.exitCode(), resumed::toString);
        assertTrue(resumed.err().contains("resuming finished runs from " + out.resolve("compare.resume")),
                resumed::toString);
        // han continues from its own checkpoint rather than starting over (the result would be the same).
        assertTrue(resumed.err().contains("resuming han from " + hanCheckpoint), resumed::toString);
        for (String model : MODELS) {
            Path name = Path.of(model + ".safetensors");
            assertArrayEquals(Files.readAllBytes(reference.resolve(name)), Files.readAllBytes(out.resolve(name)),
                    model + " differs");
        }
        assertEquals(withoutTimes(reference), withoutTimes(out));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of(), files.filter(f -> f.toString().endsWith(".resume")).toList());
        }
    }

    /** report.json without the fields docs/reliability.md lists as measured: machine, train_seconds(_relative). */
    private static JsonNode withoutTimes(Path dir) throws IOException {
        JsonNode json = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        ((ObjectNode) json).remove("machine");
        for (JsonNode run : json.get("methods")) {
            ((ObjectNode) run).remove(List.of("train_seconds", "train_seconds_relative"));
        }
        return json;
    }
}
