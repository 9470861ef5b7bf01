package dev.lacuna.pipeline.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.core.prune.PruningMethod;
import dev.lacuna.io.ModelFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The methods that fine-tune, on a small GRU and a generated text (a few seconds of ND4J). */
class CompressJobTrainingTest {
    private static final String[] WORDS = {"the whale", "a sailor", "sees", "hunts", "the ship.", "a storm."};

    @TempDir
    Path temp;

    @Test
    void agpFineTunesToTheTargetAndReportsBpcBeforeAndAfter() throws IOException {
        SplittableRandom random = new SplittableRandom(5);
        StringBuilder text = new StringBuilder();
        while (text.length() < 40_000) {
            text.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
        }
        Path data = Files.writeString(temp.resolve("text.txt"), text, StandardCharsets.UTF_8);
        Vocabulary vocabulary = Vocabulary.of(text.toString());
        Model model = Model.initialize(Architecture.of(CellType.GRU, vocabulary.size(), 4, 16, 1), vocabulary, 3);
        Files.createDirectories(temp.resolve("in"));
        Path file = temp.resolve("in").resolve("gru.safetensors");
        ModelFiles.write(model, file);

        CompressResult result = new CompressJob(new CompressSettings(file, PruningMethod.AGP, 0.5, data, 20, 1, 0,
                false, Set.of(OutputFormat.ONNX, OutputFormat.LACUNA), temp.resolve("out")), l -> { }).run();

        CompressReport report = result.report();
        assertEquals(0.5, report.sparsity(), 0.02, "AGP reaches its target by the end of the schedule");
        assertNotNull(report.bpcBefore());
        assertNotNull(report.bpcAfter());
        assertTrue(report.bpcAfter() < report.bpcBefore(), "20 steps on this text beat an untrained model: "
                + report.bpcBefore() + " -> " + report.bpcAfter());
        assertNotNull(report.maxOutputDiff());
        assertEquals("agp", report.settings().method());
        assertNotNull(report.trainingData());
    }
}
