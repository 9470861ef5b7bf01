package dev.lacuna.pipeline.compress;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lacuna.core.BadFileException;
import dev.lacuna.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The JSON report a {@link CompressJob} writes beside its outputs ({@code <stem>.compress.json}); the quality gate
 * and the up-to-date check read it back. It holds no timestamps or timings, so the same inputs give the same bytes.
 *
 * @param version        report layout version ({@link #VERSION})
 * @param inputHash      SHA-256 over the model bytes, the data bytes and the settings: the up-to-date key
 * @param settings       the settings that produced the outputs
 * @param model          the input model file
 * @param trainingData   the training text, or null
 * @param params         parameters of the prunable weight tensors
 * @param nonzero        non-zero values among them after pruning
 * @param sparsity       achieved sparsity of the prunable weights, 1 − nonzero/params
 * @param paramsTotal    all parameters (biases and unpruned tensors included)
 * @param bpcBefore      held-out bits per character of the input model, or null without training data
 * @param bpcAfter       the same for the compressed model (as written to .lacuna when quantized), or null
 * @param maxOutputDiff  largest absolute difference between the outputs of the compressed ONNX model and of the
 *                       input model in ONNX Runtime on seeded random inputs, or null when no ONNX was written
 * @param outputs        the files written, in format order
 */
public record CompressReport(int version, String inputHash, Settings settings, InputFile model,
                             InputFile trainingData, long params, long nonzero, double sparsity, long paramsTotal,
                             Double bpcBefore, Double bpcAfter, Double maxOutputDiff, List<Output> outputs) {
    /** Current layout version; a report of another version is never taken as up to date. */
    public static final int VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public CompressReport {
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
    }

    /**
     * The settings as recorded (paths as given, formats in order); {@code quantizationSteps} reads as 0 from reports
     * written before trained quantization was a setting.
     */
    public record Settings(String method, double targetSparsity, long steps, long seed, int bits, boolean huffman,
                           List<String> formats, long quantizationSteps) {
        public Settings {
            formats = formats == null ? List.of() : List.copyOf(formats);
        }
    }

    /** An input file: its path as given, size and content hash. */
    public record InputFile(String path, long sizeBytes, String sha256) {
    }

    /** An output file: its format, name inside the output directory, size and content hash. */
    public record Output(String format, String file, long sizeBytes, String sha256) {
    }

    /** The held-out bpc increase, bpcAfter − bpcBefore, or null when either is unknown. */
    public Double bpcIncrease() {
        return bpcBefore == null || bpcAfter == null ? null : bpcAfter - bpcBefore;
    }

    /** The output of {@code format}, or null when it was not written. */
    public Output output(OutputFormat format) {
        return outputs.stream().filter(o -> o.format().equals(format.id())).findFirst().orElse(null);
    }

    /** The report as pretty-printed UTF-8 JSON. */
    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException("a report of plain values must serialize", e);
        }
    }

    /** Writes the report atomically. */
    public void write(Path file) {
        byte[] bytes = toJson();
        AtomicFiles.write(file, out -> out.write(bytes));
    }

    /**
     * Reads a report.
     *
     * @throws BadFileException when the file is missing or is not a compress report
     */
    public static CompressReport read(Path file) {
        try {
            CompressReport report = JSON.readValue(Files.readAllBytes(file), CompressReport.class);
            if (report.settings() == null || report.inputHash() == null) {
                throw new BadFileException(file, "is not a Lacuna compress report (no settings or input hash)");
            }
            return report;
        } catch (NoSuchFileException e) {
            throw new BadFileException(file, "not found: run the compress step first");
        } catch (IOException e) {
            throw new BadFileException(file, "is not a Lacuna compress report: " + e.getMessage(), e);
        }
    }
}
