package dev.lacuna.io.format;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.Model;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.TensorSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code .lacuna} compressed model format (docs/format.md): pruned weights as relative sparse indices,
 * k-means codebooks, Huffman coding, masks and provenance, verified by CRC32C on reading.
 */
public final class LacunaFormat {
    /** File name extension. */
    public static final String EXTENSION = ".lacuna";
    /**
     * Newest format version this library writes. Each file is stamped with the oldest version that defines every
     * encoding it uses (format.md §8), so most files are still 1.0; it reads every 1.x file.
     */
    public static final String VERSION = LacunaFile.MAJOR + "." + LacunaFile.MINOR;

    private LacunaFormat() {
    }

    /**
     * Encodes a model in memory. Masked-out weights are dropped whatever their value; the model is not changed.
     *
     * @throws dev.lacuna.core.InvalidOptionException when quantization meets a NaN or infinite weight
     */
    public static EncodedModel encode(Model model, EncodingOptions options) {
        List<TensorEncoder.Result> tensors = new ArrayList<>();
        int gates = model.architecture().cell().gates();
        for (TensorSpec spec : model.specs()) {
            Tensor t = model.tensor(spec.name());
            tensors.add(TensorEncoder.encode(spec.name(), spec.shape(), t.data(), model.mask(spec.name()),
                    spec.role(), gates, options));
        }
        return new EncodedModel(model, HeaderJson.write(model, options), options.precision().id(), tensors);
    }

    /**
     * Writes {@code model} to {@code target} atomically.
     *
     * @return the size accounting of the written file
     * @throws BadFileException naming {@code target} when it cannot be written
     */
    public static LacunaFileReport write(Model model, Path target, EncodingOptions options) {
        EncodedModel encoded = encode(model, options);
        encoded.write(target);
        return encoded.report();
    }

    /**
     * Reads a {@code .lacuna} file, verifying every checksum, length and padding byte.
     *
     * @throws BadFileException naming the file, section and byte offset of the first problem
     */
    public static Model read(Path file) {
        return LacunaReader.read(file).model();
    }

    /** Reads a file like {@link #read} and reports how each tensor is stored and what it costs. */
    public static LacunaFileReport inspect(Path file) {
        return LacunaReader.read(file).report();
    }

    /** A model read from a {@code .lacuna} file together with its size accounting. */
    public record Loaded(Model model, LacunaFileReport report) {
    }

    /** {@link #read} and {@link #inspect} in one pass. */
    public static Loaded load(Path file) {
        LacunaReader.Result result = LacunaReader.read(file);
        return new Loaded(result.model(), result.report());
    }

    /** Whether {@code file} starts with the {@code .lacuna} magic (false when it is shorter or unreadable). */
    public static boolean hasMagic(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return Arrays.equals(in.readNBytes(LacunaFile.MAGIC.length), LacunaFile.MAGIC);
        } catch (IOException e) {
            return false;
        }
    }
}
