package dev.lacuna.onnx;

import dev.lacuna.core.Model;
import dev.lacuna.io.ModelFormat;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code .onnx} as a {@link ModelFormat} (registered through {@code META-INF/services}), so every command that
 * reads or writes a model by file name handles ONNX. Writing uses {@link ExportOptions#defaults()}: scatter
 * storage for pruned models, dense otherwise; {@code lacuna convert --sparse/--opset} chooses otherwise.
 */
public final class OnnxModelFormat implements ModelFormat {

    @Override
    public String id() {
        return "onnx";
    }

    @Override
    public List<String> extensions() {
        return List.of(".onnx");
    }

    @Override
    public Model read(Path file) {
        return OnnxImporter.read(file);
    }

    @Override
    public void write(Model model, Path file) {
        OnnxExporter.write(model, file, ExportOptions.defaults());
    }
}
