package dev.lacuna.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lacuna.io.format.LacunaFormat;

/**
 * Fuzzes the {@code .lacuna} reader: section CRCs, the JSON header, the tensor directory and every encoding's
 * decoder (relative indices, codebooks, Huffman tables). Seeds are the versioned golden files.
 */
class LacunaFormatFuzzTest {
    private final ReaderContract contract = new ReaderContract("input.lacuna");

    @FuzzTest
    void read(byte[] bytes) {
        contract.read(bytes, LacunaFormat::read).ifPresent(ReaderContract::matchesItsArchitecture);
    }
}
