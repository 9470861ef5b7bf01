package dev.lacuna.io;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.io.format.LacunaModelFormat;
import dev.lacuna.io.npz.NpzModelFormat;
import dev.lacuna.io.statedict.SafetensorsModelFormat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * Reads and writes models in whichever format a file's extension names: io's own {@code .safetensors} (a Lacuna
 * checkpoint, or a plain PyTorch {@code state_dict} imported with {@link dev.lacuna.io.statedict.StateDictImporter}'s
 * defaults), {@code .npz} and {@code .lacuna}, plus every {@link ModelFormat} that other modules register through
 * {@link ServiceLoader} (ONNX).
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    /**
     * Reads a model, choosing the format by the file's extension.
     *
     * @throws InvalidOptionException              when no known format owns the extension
     * @throws dev.lacuna.core.BadFileException naming the file when it cannot be read
     */
    public static Model read(Path file) {
        return formatFor(file).read(file);
    }

    /**
     * Writes a model atomically, choosing the format by the target's extension.
     *
     * @throws InvalidOptionException              when no known format owns the extension
     * @throws dev.lacuna.core.BadFileException naming the file when it cannot be written
     */
    public static void write(Model model, Path file) {
        formatFor(file).write(model, file);
    }

    /**
     * The format owning the file's extension (longest matching extension wins, so {@code .tar.gz}-style names work).
     *
     * @throws InvalidOptionException naming the file and the known extensions when none matches
     */
    public static ModelFormat formatFor(Path file) {
        Path fileName = file.getFileName();
        String name = fileName == null ? "" : fileName.toString().toLowerCase(Locale.ROOT);
        ModelFormat best = null;
        int bestLength = 0;
        for (ModelFormat format : formats()) {
            for (String extension : format.extensions()) {
                if (name.endsWith(extension.toLowerCase(Locale.ROOT)) && extension.length() > bestLength) {
                    best = format;
                    bestLength = extension.length();
                }
            }
        }
        if (best == null) {
            throw new InvalidOptionException("model file", file + ": unknown model file extension (known: "
                    + String.join(", ", knownExtensions()) + ")");
        }
        return best;
    }

    /** io's formats first, then those found through {@link ServiceLoader}, in class path order. */
    public static List<ModelFormat> formats() {
        List<ModelFormat> formats = new ArrayList<>();
        formats.add(new SafetensorsModelFormat());
        formats.add(new NpzModelFormat());
        formats.add(new LacunaModelFormat());
        for (ModelFormat plugged : ServiceLoader.load(ModelFormat.class, ModelFiles.class.getClassLoader())) {
            formats.add(plugged);
        }
        return formats;
    }

    private static List<String> knownExtensions() {
        List<String> all = new ArrayList<>();
        for (ModelFormat format : formats()) {
            all.addAll(format.extensions());
        }
        return all;
    }
}
