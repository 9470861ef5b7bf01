package dev.lacuna.cli;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.runtime.LatencyBenchmark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * ONNX Runtime on a Lacuna ONNX export (one int64 input of token ids {@code [time, batch]}), one token per call.
 *
 * <p>The export has no initial-state inputs, so each call starts from the zero state. A step's work does not depend
 * on the state's values (the same products and nonlinearities run either way), so the time per call is the per-token
 * latency a stateful deployment would see; only the logits differ, and this stepper discards them.
 */
final class OrtStepper implements LatencyBenchmark.Stepper, AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String input;
    private final long[][] token = new long[1][1];

    OrtStepper(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new BadFileException(file, "does not exist or is not a file");
        }
        try {
            env = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            // One thread. At two, ONNX Runtime ran the demo LSTM's token no faster (0.070-0.084 ms against
            // 0.076-0.080), and its spinning worker thread took a core from the other contenders for the whole run
            // (the Java runtime's 2-thread 90% token: 0.031 ms without an ONNX Runtime session, 0.054-0.118 ms
            // beside one; docs/runtime.md, "Threads"). One thread is its best setting for a token step here.
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            session = env.createSession(file.toString(), options);
        } catch (OrtException e) {
            throw new BadFileException(file, "ONNX Runtime cannot load it: " + e.getMessage(), e);
        }
        Map<String, NodeInfo> inputs;
        try {
            inputs = session.getInputInfo();
        } catch (OrtException e) {
            throw new BadFileException(file, "ONNX Runtime cannot describe its inputs: " + e.getMessage(), e);
        }
        if (inputs.size() != 1 || !(inputs.values().iterator().next().getInfo() instanceof TensorInfo info)
                || info.type != OnnxJavaType.INT64 || info.getShape().length != 2) {
            throw new BadFileException(file, "is not a Lacuna ONNX export: expected one int64 input [time, batch],"
                    + " found " + inputs.values());
        }
        input = inputs.keySet().iterator().next();
    }

    @Override
    public void reset() {
        // stateless per call, see the class comment
    }

    @Override
    public void step(int id) {
        token[0][0] = id;
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, token)) {
            session.run(Map.of(input, tensor)).close(); // only the time is wanted
        } catch (OrtException e) {
            throw new LacunaException("ONNX Runtime failed on token " + id + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new LacunaException("cannot close the ONNX Runtime session: " + e.getMessage(), e);
        }
    }
}
