package dev.lacuna.cli;

import dev.lacuna.core.LacunaException;

/**
 * Whether ND4J, the training engine, is on the class path. {@code lacuna-lite.jar} leaves it out: ND4J's native
 * library alone is 90 MB compressed, and importing, one-shot pruning of ONNX graphs, converting, verifying, running
 * and benchmarking the Lacuna runtime do not need it (docs/onnx-export.md, "Jar size").
 */
final class TrainingEngine {
    /** Loaded by every ND4J computation Lacuna does; its absence means the engine is absent. */
    private static final String PROBE = "org.nd4j.linalg.factory.Nd4j";

    private TrainingEngine() {
    }

    static boolean present() {
        try {
            Class.forName(PROBE, false, TrainingEngine.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Whether {@code error} is a class of the training engine (ND4J or its JavaCPP natives) failing to load. */
    static boolean isMissing(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof NoClassDefFoundError || t instanceof ClassNotFoundException) {
                String name = String.valueOf(t.getMessage()).replace('/', '.');
                if (name.contains("org.nd4j.") || name.contains("org.bytedeco.")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The one-line error for a command that needs training math in a jar without it. */
    static LacunaException missing(String command, Throwable cause) {
        return new LacunaException(command + " needs the training engine (ND4J), which lacuna-lite.jar leaves out;"
                + " run it with lacuna.jar", cause);
    }
}
