package dev.lacuna.io.statedict;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.Model;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.io.ModelFormat;
import dev.lacuna.io.SafetensorsFile;
import dev.lacuna.io.SafetensorsTensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code .safetensors} as a {@link ModelFormat}: a Lacuna checkpoint (metadata with {@code lacuna.architecture})
 * loads through {@link ModelCheckpoint#load}; any other file is a PyTorch {@code state_dict} imported with a
 * {@link StateDictImporter}. Writing always writes a Lacuna checkpoint ({@link ModelCheckpoint#save}), which PyTorch
 * reads back as a {@code state_dict} with {@code safetensors.torch.load_file}.
 */
public final class SafetensorsModelFormat implements ModelFormat {
    private final StateDictImporter importer;

    /** Imports plain state_dicts with {@link StateDictImporter#defaults()}. */
    public SafetensorsModelFormat() {
        this(StateDictImporter.defaults());
    }

    public SafetensorsModelFormat(StateDictImporter importer) {
        this.importer = importer;
    }

    @Override
    public String id() {
        return "safetensors";
    }

    @Override
    public List<String> extensions() {
        return List.of(".safetensors");
    }

    @Override
    public Model read(Path file) {
        SafetensorsFile content = SafetensorsFile.read(file);
        if (content.metadata().containsKey(ModelCheckpoint.ARCHITECTURE_KEY)) {
            return ModelCheckpoint.load(file);
        }
        Map<String, StateDictTensor> tensors = new LinkedHashMap<>();
        for (SafetensorsTensor t : content.tensors().values()) {
            boolean floating = t.dtype().isFloating();
            float[] values = floating ? t.toFloats() : integerValues(file, t);
            tensors.put(t.name(), new StateDictTensor(t.name(), t.dtype().name(), t.shape(), floating, values));
        }
        return importer.importTensors(file, tensors, content.metadata());
    }

    @Override
    public void write(Model model, Path file) {
        ModelCheckpoint.save(model, file);
    }

    /** Integer and boolean tensors are only usable as masks; their values are read so masks can be checked. */
    private static float[] integerValues(Path file, SafetensorsTensor t) {
        java.nio.ByteBuffer data = t.data();
        int n = t.elementCount();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (t.dtype()) {
                case U8, BOOL -> data.get(i) & 0xFF;
                case I32 -> data.getInt(i * 4);
                case I64 -> data.getLong(i * 8);
                default -> throw new BadFileException(file, "tensor '" + t.name() + "': unexpected type "
                        + t.dtype());
            };
        }
        return out;
    }
}
