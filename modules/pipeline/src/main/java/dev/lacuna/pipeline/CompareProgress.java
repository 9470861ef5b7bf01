package dev.lacuna.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.InvalidOptionException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a resumable {@link CompareExperiment} has finished, kept in {@code DIR/compare.resume} (JSON, rewritten
 * atomically after every run): the runs' records in full (report.json thins histories, so it cannot give them back
 * exactly), Han's sensitivity analysis and per-tensor s once computed, and a fingerprint of the dense model, the
 * data and the settings. Doubles are written in Java's shortest round-tripping form, NaN as the string "NaN", so a
 * resumed report equals an uninterrupted one.
 */
final class CompareProgress {
    static final String FILE = "compare.resume";
    static final String FORMAT = "lacuna-compare-resume/1";

    final String fingerprint;
    final List<RunRecord> methods = new ArrayList<>();
    final List<RunRecord> widthRuns = new ArrayList<>();
    /** The sensitivity section of the report, once Han's analysis ran; null before. */
    Map<String, Object> sensitivity;
    /** Han's s per tensor, scaled to the target, once computed; null before. */
    Map<String, Double> hanQuality;
    double hanAnalysisSeconds;

    CompareProgress(String fingerprint) {
        this.fingerprint = fingerprint;
    }

    static Path file(Path outDir) {
        return outDir.resolve(FILE);
    }

    /** Writes the progress atomically into {@code outDir}. */
    void write(Path outDir) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("fingerprint", fingerprint);
        m.put("methods", methods.stream().map(CompareProgress::recordMap).toList());
        m.put("width_runs", widthRuns.stream().map(CompareProgress::recordMap).toList());
        if (sensitivity != null) {
            m.put("sensitivity", sensitivity);
        }
        if (hanQuality != null) {
            Map<String, Object> han = new LinkedHashMap<>();
            han.put("quality", hanQuality);
            han.put("analysis_seconds", hanAnalysisSeconds);
            m.put("han", han);
        }
        Json.write(file(outDir), m);
    }

    /**
     * The progress saved in {@code outDir}, or null when there is none.
     *
     * @throws InvalidOptionException naming {@code --resume} when it was saved by a run with another fingerprint
     * @throws BadFileException       naming the file when it is not a compare checkpoint or is damaged
     */
    static CompareProgress read(Path outDir, String fingerprint) {
        Path file = file(outDir);
        if (!Files.exists(file)) {
            return null;
        }
        JsonNode root = Json.readTree(file);
        if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText())) {
            throw new BadFileException(file, "is not a Lacuna compare checkpoint: expected format " + FORMAT);
        }
        if (!fingerprint.equals(root.path("fingerprint").asText())) {
            throw new InvalidOptionException("--resume", file + " was written by a different comparison (the dense"
                    + " model, the data or the settings differ); delete it or run without --resume");
        }
        try {
            CompareProgress progress = new CompareProgress(fingerprint);
            for (JsonNode r : array(root, "methods")) {
                progress.methods.add(record(r));
            }
            for (JsonNode r : array(root, "width_runs")) {
                progress.widthRuns.add(record(r));
            }
            if (root.has("sensitivity")) {
                progress.sensitivity = Json.toMap(root.get("sensitivity"));
            }
            if (root.has("han")) {
                JsonNode han = root.get("han");
                Map<String, Double> quality = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = han.path("quality").fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    quality.put(e.getKey(), number(e.getValue()));
                }
                progress.hanQuality = quality;
                progress.hanAnalysisSeconds = number(han.path("analysis_seconds"));
            }
            return progress;
        } catch (IllegalArgumentException e) {
            throw new BadFileException(file, "is damaged: " + e.getMessage(), e);
        }
    }

    private static Iterable<JsonNode> array(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || !node.isArray()) {
            throw new IllegalArgumentException("'" + field + "' must be an array");
        }
        return node;
    }

    static Map<String, Object> recordMap(RunRecord r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", r.method());
        m.put("cell", r.cell());
        m.put("layers", r.layers());
        m.put("hidden", r.hidden());
        m.put("params", r.params());
        m.put("params_nonzero", r.paramsNonzero());
        m.put("sparsity", exact(r.sparsity()));
        m.put("sparsity_predicted", r.sparsityPredicted());
        m.put("bpc_val", exact(r.bpcVal()));
        m.put("train_steps", r.trainSteps());
        m.put("train_seconds", r.trainSeconds());
        m.put("size_bytes", r.sizes() == null ? null : r.sizes().toMap());
        List<List<Object>> points = new ArrayList<>();
        for (RunRecord.Point p : r.history()) {
            points.add(List.of(p.step(), exact(p.sparsity()), exact(p.threshold()), exact(p.bpcVal())));
        }
        m.put("history", points);
        m.put("error", r.error());
        return m;
    }

    static RunRecord record(JsonNode m) {
        List<RunRecord.Point> history = new ArrayList<>();
        for (JsonNode p : array(m, "history")) {
            if (!p.isArray() || p.size() != 4) {
                throw new IllegalArgumentException("a history point must be [step, sparsity, threshold, bpc_val]");
            }
            history.add(new RunRecord.Point(integer(p.get(0)), number(p.get(1)), number(p.get(2)),
                    number(p.get(3))));
        }
        JsonNode sizes = m.path("size_bytes");
        ModelSizes modelSizes = sizes.isObject() ? new ModelSizes(integer(sizes.get("fp32")),
                integer(sizes.get("sparse")), optionalInteger(sizes.get("quantized")),
                optionalInteger(sizes.get("huffman"))) : null;
        JsonNode predicted = m.path("sparsity_predicted");
        JsonNode error = m.path("error");
        return new RunRecord(text(m, "method"), text(m, "cell"), (int) integer(m.get("layers")),
                (int) integer(m.get("hidden")), integer(m.get("params")), integer(m.get("params_nonzero")),
                number(m.get("sparsity")), predicted.isNull() || predicted.isMissingNode() ? null : number(predicted),
                number(m.get("bpc_val")), integer(m.get("train_steps")), number(m.get("train_seconds")), modelSizes,
                history, error.isTextual() ? error.asText() : null);
    }

    /** JSON has no NaN: such values go as the string "NaN". */
    private static Object exact(double value) {
        return Double.isFinite(value) ? value : Double.toString(value);
    }

    private static double number(JsonNode node) {
        if (node != null && node.isNumber()) {
            return node.doubleValue();
        }
        if (node != null && node.isTextual()) {
            return Double.parseDouble(node.asText());
        }
        throw new IllegalArgumentException("expected a number, found " + node);
    }

    private static long integer(JsonNode node) {
        if (node == null || !node.canConvertToLong() || !node.isIntegralNumber()) {
            throw new IllegalArgumentException("expected an integer, found " + node);
        }
        return node.longValue();
    }

    private static Long optionalInteger(JsonNode node) {
        return node == null || node.isNull() ? null : integer(node);
    }

    private static String text(JsonNode m, String field) {
        JsonNode node = m.get(field);
        if (node == null || !node.isTextual()) {
            throw new IllegalArgumentException("'" + field + "' must be a string");
        }
        return node.asText();
    }
}
