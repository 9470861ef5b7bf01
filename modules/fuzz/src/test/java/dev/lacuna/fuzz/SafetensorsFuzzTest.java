package dev.lacuna.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lacuna.io.SafetensorsFile;
import dev.lacuna.io.SafetensorsTensor;

/** Fuzzes {@link SafetensorsFile#read}: the container under every Lacuna checkpoint and PyTorch import. */
class SafetensorsFuzzTest {
    private final ReaderContract contract = new ReaderContract("input.safetensors");

    // Header keys and values of the safetensors spec, so that mutations stay close to well-formed headers.
    @DictionaryEntries({"\"dtype\":", "\"shape\":", "\"data_offsets\":", "\"__metadata__\":", "\"F32\"",
        "\"F64\"", "\"F16\"", "\"BF16\"", "\"U8\"", "\"BOOL\"", "\"I64\"", "2147483647",
        "18446744073709551615", "-1", "[]"})
    @FuzzTest
    void read(byte[] bytes) {
        contract.read(bytes, SafetensorsFile::read).ifPresent(SafetensorsFuzzTest::useEveryTensor);
    }

    /** A file that was accepted must be usable: every floating tensor converts and has the elements its shape says. */
    private static void useEveryTensor(SafetensorsFile file) {
        for (SafetensorsTensor tensor : file.tensors().values()) {
            long elements = 1;
            for (int dimension : tensor.shape()) {
                elements *= dimension;
            }
            assertEquals(elements, tensor.elementCount(), tensor::toString);
            if (tensor.dtype().isFloating()) {
                assertEquals(elements, file.floats(tensor.name()).length, tensor::toString);
            }
        }
    }
}
