package dev.lacuna.io;

import dev.lacuna.core.Model;
import java.nio.file.Path;
import java.util.List;

/**
 * A format registered only through {@code META-INF/services} in io's test resources, standing in for the ONNX and
 * {@code .lacuna} formats other modules plug in: it stores a Lacuna checkpoint under its own extensions.
 */
public final class PluggedTestFormat implements ModelFormat {
    @Override
    public String id() {
        return "plugged-test";
    }

    /** {@code .x.safetensors} is longer than io's {@code .safetensors}, so the longest match must choose this. */
    @Override
    public List<String> extensions() {
        return List.of(".plugged", ".x.safetensors");
    }

    @Override
    public Model read(Path file) {
        Model m = ModelCheckpoint.load(file);
        m.metadata().put("read-by", id());
        return m;
    }

    @Override
    public void write(Model model, Path file) {
        ModelCheckpoint.save(model, file);
    }
}
