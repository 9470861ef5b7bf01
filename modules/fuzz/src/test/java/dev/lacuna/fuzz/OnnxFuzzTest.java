package dev.lacuna.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lacuna.onnx.OnnxImporter;
import dev.lacuna.onnx.OnnxWeights;

/**
 * Fuzzes ONNX reading: protobuf parsing under Lacuna's size and nesting limits, then both consumers of a parsed
 * graph: the weight listing that any-model pruning uses, and the import of recurrent models. Seeds are PyTorch
 * exports from testdata/onnx.
 */
class OnnxFuzzTest {
    private final ReaderContract contract = new ReaderContract("input.onnx");

    @DictionaryEntries({"LSTM", "GRU", "RNN", "Gather", "MatMul", "Gemm", "Constant", "If", "Slice", "Concat",
        "hidden_size", "direction", "bidirectional", "linear_before_reset", "layout", "external_data", "location"})
    @FuzzTest
    void read(byte[] bytes) {
        contract.read(bytes, OnnxWeights::list);
        contract.readAgain(OnnxImporter::read).ifPresent(ReaderContract::matchesItsArchitecture);
    }
}
