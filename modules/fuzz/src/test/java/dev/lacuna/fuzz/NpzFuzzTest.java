package dev.lacuna.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lacuna.io.npz.NpzModelFormat;

/**
 * Fuzzes the {@code .npz} model reader: the zip container (with its bomb and path-traversal guards), the NPY
 * headers, and the PyTorch {@code state_dict} import on top. Seeds are real npz twins of the PyTorch test models.
 */
class NpzFuzzTest {
    private final ReaderContract contract = new ReaderContract("input.npz");
    private final NpzModelFormat format = new NpzModelFormat();

    @DictionaryEntries({"\\x93NUMPY", "'descr': '<f4'", "'descr': '>f4'", "'descr': '<f2'", "'descr': '|b1'",
        "'fortran_order': True", "'shape': (", "PK\\x03\\x04", "PK\\x01\\x02", "weight_ih_l0", "weight_hh_l0",
        "_reverse", "2147483647"})
    @FuzzTest
    void read(byte[] bytes) {
        contract.read(bytes, format::read).ifPresent(ReaderContract::matchesItsArchitecture);
    }
}
