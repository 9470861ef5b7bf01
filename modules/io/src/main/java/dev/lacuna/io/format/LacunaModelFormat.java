package dev.lacuna.io.format;

import dev.lacuna.core.Model;
import dev.lacuna.io.ModelFormat;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code .lacuna} as a {@link ModelFormat}, so every command that reads a model reads compressed files too.
 * Writing through this generic door is lossless ({@link EncodingOptions#lossless()}): a conversion must not change
 * the model; {@code lacuna compress} is where precision is traded for size.
 */
public final class LacunaModelFormat implements ModelFormat {

    @Override
    public String id() {
        return "lacuna";
    }

    @Override
    public List<String> extensions() {
        return List.of(LacunaFormat.EXTENSION);
    }

    @Override
    public Model read(Path file) {
        return LacunaFormat.read(file);
    }

    @Override
    public void write(Model model, Path file) {
        LacunaFormat.write(model, file, EncodingOptions.lossless());
    }
}
