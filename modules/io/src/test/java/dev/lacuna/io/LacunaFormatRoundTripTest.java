package dev.lacuna.io;

import dev.lacuna.core.Model;
import dev.lacuna.io.format.EncodingOptions;
import dev.lacuna.io.format.LacunaFormat;
import java.nio.file.Path;

/**
 * The lossless {@code .lacuna} encoding against the round-trip contract of every model format. It lives in this
 * package because the contract's base class is package-private; the format's own tests are in
 * {@code dev.lacuna.io.format}.
 */
class LacunaFormatRoundTripTest extends AbstractModelFormatRoundTripTest {
    @Override
    void write(Model model, Path file) {
        LacunaFormat.write(model, file, EncodingOptions.lossless().withHuffman(true));
    }

    @Override
    Model read(Path file) {
        return LacunaFormat.read(file);
    }
}
