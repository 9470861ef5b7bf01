package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.onnx.NdArray;
import dev.lacuna.onnx.Npy;
import dev.lacuna.onnx.OnnxVerifier;
import dev.lacuna.pipeline.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lacuna verify}: runs an ONNX model in ONNX Runtime and reports how far its outputs are from a reference. */
@Command(name = "verify", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Run an ONNX model in ONNX Runtime and print the max absolute difference per output against "
                + "a reference model (--against) or expected arrays (--expect).",
                "Inputs not given with --input are random (seeded): floats in [-1, 1), token ids within the "
                        + "vocabulary of the Gather or OneHot they feed."})
final class VerifyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "ONNX model to run.")
    Path model;

    @Option(names = "--against", paramLabel = "REF.onnx", description = "Reference ONNX model run on the same "
            + "inputs; outputs are compared by name.")
    Path against;

    @Option(names = "--input", paramLabel = "NAME=FILE.npy", description = "An input array (repeatable).")
    Map<String, Path> inputs = new LinkedHashMap<>();

    @Option(names = "--expect", paramLabel = "NAME=FILE.npy", description = "An expected output array "
            + "(repeatable); takes precedence over --against for that output.")
    Map<String, Path> expected = new LinkedHashMap<>();

    @Option(names = "--dim", paramLabel = "NAME=SIZE", description = "Size of a symbolic input dimension for "
            + "random inputs (repeatable; default " + OnnxVerifier.DEFAULT_DIMENSION + ").")
    Map<String, Long> dims = new LinkedHashMap<>();

    @Option(names = "--seed", description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--tolerance", paramLabel = "X", description = "Fail (exit 1) when the max abs diff exceeds X.")
    Double tolerance;

    @Option(names = "--json", description = "Print the result as JSON on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        dims.forEach((name, size) -> {
            if (size < 1) {
                throw new InvalidOptionException("--dim", name + "=" + size + ": a size must be positive");
            }
        });
        if (tolerance != null && !(tolerance >= 0)) {
            throw new InvalidOptionException("--tolerance", "must be a non-negative number, found " + tolerance);
        }
        OnnxVerifier.Verification v = OnnxVerifier.verify(model, new OnnxVerifier.Options(against,
                readAll(inputs), readAll(expected), dims, seed));
        Map<String, Object> result = asMap(v);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.pretty(result));
        } else {
            printText(out, v);
        }
        out.flush();
        if (tolerance != null && v.maxAbsDiff() != null && !(v.maxAbsDiff() <= tolerance)) {
            throw new LacunaException(String.format(Locale.ROOT, "max abs diff %s exceeds the tolerance %s",
                    v.maxAbsDiff(), tolerance));
        }
        return 0;
    }

    private static Map<String, NdArray> readAll(Map<String, Path> files) {
        Map<String, NdArray> arrays = new LinkedHashMap<>();
        files.forEach((name, file) -> arrays.put(name, Npy.read(file)));
        return arrays;
    }

    private Map<String, Object> asMap(OnnxVerifier.Verification v) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", model.toString());
        r.put("against", against == null ? null : against.toString());
        r.put("seed", seed);
        Map<String, Object> in = new LinkedHashMap<>();
        v.inputs().forEach((name, array) -> {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("shape", array.shape());
            entry.put("type", array.isFloat() ? "float32" : "int64");
            entry.put("source", v.randomInputs().contains(name) ? "random" : inputs.get(name).toString());
            in.put(name, entry);
        });
        r.put("inputs", in);
        Map<String, Object> outs = new LinkedHashMap<>();
        v.outputs().forEach((name, check) -> {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("shape", check.shape());
            entry.put("max_abs_diff", check.maxAbsDiff());
            entry.put("compared_with", check.comparedWith());
            outs.put(name, entry);
        });
        r.put("outputs", outs);
        r.put("max_abs_diff", v.maxAbsDiff());
        return r;
    }

    private void printText(PrintWriter out, OnnxVerifier.Verification v) {
        out.printf(Locale.ROOT, "model    %s%n", model);
        if (against != null) {
            out.printf(Locale.ROOT, "against  %s%n", against);
        }
        v.inputs().forEach((name, array) -> out.printf(Locale.ROOT, "input    %s %s%s %s%n", name,
                array.isFloat() ? "float32" : "int64", Arrays.toString(array.shape()),
                v.randomInputs().contains(name) ? "(random, seed " + seed + ")" : "from " + inputs.get(name)));
        v.outputs().forEach((name, check) -> out.printf(Locale.ROOT, "output   %s %s  %s%n", name,
                Arrays.toString(check.shape()), check.maxAbsDiff() == null ? "not compared"
                        : "max abs diff " + check.maxAbsDiff() + " vs " + check.comparedWith()));
        out.printf(Locale.ROOT, "max abs diff %s%n", v.maxAbsDiff() == null ? "n/a (nothing to compare with)"
                : v.maxAbsDiff());
    }
}
