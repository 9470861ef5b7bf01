package dev.lacuna.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Map;

/** Runs a testdata case's graph in ONNX Runtime on the case's tokens (graphs whose only input is {@code tokens}). */
final class OrtRunner {
    private OrtRunner() {
    }

    /** The first output ("logits") as [T][B][V], for a graph taking tokens [T, B] (int64). */
    static float[][][] logits(Path model, JsonNode root) throws OrtException {
        JsonNode tokens = root.get("tokens");
        int time = tokens.size();
        int batch = tokens.get(0).size();
        long[] ids = new long[time * batch];
        for (int t = 0; t < time; t++) {
            for (int b = 0; b < batch; b++) {
                ids[t * batch + b] = tokens.get(t).get(b).asLong();
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(model.toString(), new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {time, batch});
             OrtSession.Result result = session.run(Map.of("tokens", input))) {
            return (float[][][]) result.get(0).getValue();
        }
    }

    static double maxDifference(float[][][] a, float[][][] b) {
        double max = 0;
        for (int t = 0; t < a.length; t++) {
            for (int i = 0; i < a[t].length; i++) {
                for (int v = 0; v < a[t][i].length; v++) {
                    max = Math.max(max, Math.abs(a[t][i][v] - b[t][i][v]));
                }
            }
        }
        return max;
    }
}
