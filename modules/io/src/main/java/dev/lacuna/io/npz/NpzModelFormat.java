package dev.lacuna.io.npz;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.Model;
import dev.lacuna.core.Tensor;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.io.ModelFormat;
import dev.lacuna.io.statedict.StateDictImporter;
import dev.lacuna.io.statedict.StateDictTensor;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code .npz} as a {@link ModelFormat}.
 *
 * <p>Written: every tensor under its model name as {@code <f4} (masked-out weights as zeros), every mask as a boolean
 * array {@code <tensor>_mask}, and one zero-dimensional string array {@value #METADATA_ARRAY} holding a JSON object
 * of strings: {@code lacuna.format} = {@value #FORMAT}, {@code lacuna.architecture} and {@code lacuna.vocabulary}
 * (as in {@link ModelCheckpoint}), and the model's metadata. In Python: {@code d = numpy.load(f)}, weights by name,
 * {@code json.loads(str(d["__lacuna__"]))} for the rest.
 *
 * <p>Read: any npz of float arrays named like a PyTorch {@code state_dict} (what {@code numpy.savez(f, **{k:
 * v.numpy() for k, v in sd.items()})} writes) goes through a {@link StateDictImporter}; the metadata array, when
 * present, supplies the architecture, vocabulary and metadata.
 */
public final class NpzModelFormat implements ModelFormat {
    /** Name of the metadata array. */
    public static final String METADATA_ARRAY = "__lacuna__";
    /** Value of {@code lacuna.format} in files this version writes. */
    public static final String FORMAT = "lacuna-npz/1";

    private static final ObjectMapper JSON = new ObjectMapper();
    private final StateDictImporter importer;

    /** Imports plain state_dicts with {@link StateDictImporter#defaults()}. */
    public NpzModelFormat() {
        this(StateDictImporter.defaults());
    }

    public NpzModelFormat(StateDictImporter importer) {
        this.importer = importer;
    }

    @Override
    public String id() {
        return "npz";
    }

    @Override
    public List<String> extensions() {
        return List.of(".npz");
    }

    @Override
    public Model read(Path file) {
        NpzFile npz = NpzFile.read(file);
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, StateDictTensor> tensors = new LinkedHashMap<>();
        for (NpyArray a : npz.arrays().values()) {
            if (a.name().equals(METADATA_ARRAY)) {
                metadata.putAll(parseMetadata(file, a));
                continue;
            }
            if (a.isText()) {
                throw new BadFileException(file, "array '" + a.name() + "' holds text (" + a.descr()
                        + "), not numbers");
            }
            float[] values = a.isFloating() ? a.floats() : a.numericValues();
            tensors.put(a.name(), new StateDictTensor(a.name(), a.descr(), a.shape(), a.isFloating(), values));
        }
        String format = metadata.get(ModelCheckpoint.FORMAT_KEY);
        if (format != null && !format.equals(FORMAT)) {
            throw new BadFileException(file, METADATA_ARRAY + ": " + ModelCheckpoint.FORMAT_KEY + " is '" + format
                    + "', this version reads '" + FORMAT + "'");
        }
        return importer.importTensors(file, tensors, metadata);
    }

    @Override
    public void write(Model model, Path file) {
        NpzWriter writer = new NpzWriter();
        for (Tensor t : model.tensors().values()) {
            boolean[] keep = model.mask(t.name());
            float[] values = t.data();
            if (keep != null) {
                values = values.clone();
                for (int i = 0; i < values.length; i++) {
                    if (!keep[i]) {
                        values[i] = 0f;
                    }
                }
            }
            writer.addF32(t.name(), t.shape(), values);
        }
        for (Tensor t : model.tensors().values()) {
            boolean[] keep = model.mask(t.name());
            if (keep != null) {
                writer.addBool(t.name() + ModelCheckpoint.MASK_SUFFIX, t.shape(), keep);
            }
        }
        writer.addString(METADATA_ARRAY, metadataJson(model));
        writer.write(file);
    }

    /** Sorted keys, so the same model always gives the same bytes. */
    private static String metadataJson(Model model) {
        Map<String, String> all = new TreeMap<>(model.metadata());
        all.put(ModelCheckpoint.FORMAT_KEY, FORMAT);
        all.put(ModelCheckpoint.ARCHITECTURE_KEY, ModelCheckpoint.architectureJson(model.architecture()));
        all.put(ModelCheckpoint.VOCABULARY_KEY, ModelCheckpoint.vocabularyJson(model.vocabulary()));
        ObjectNode node = JSON.createObjectNode();
        all.forEach(node::put);
        try {
            // ASCII-only JSON: every character outside it is escaped, so no NUL or odd code point reaches numpy
            return JSON.writer().with(com.fasterxml.jackson.core.json.JsonWriteFeature.ESCAPE_NON_ASCII)
                    .writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> parseMetadata(Path file, NpyArray array) {
        String text;
        try {
            text = array.string();
        } catch (IllegalStateException e) {
            throw new BadFileException(file, METADATA_ARRAY + ": expected one string, found " + array.descr()
                    + " " + java.util.Arrays.toString(array.shape()));
        }
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new BadFileException(file, METADATA_ARRAY + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new BadFileException(file, METADATA_ARRAY + ": expected a JSON object of strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new BadFileException(file, METADATA_ARRAY + ": entry '" + e.getKey()
                        + "' must be a string, found " + e.getValue());
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return out;
    }
}
