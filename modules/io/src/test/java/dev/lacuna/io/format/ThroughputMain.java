package dev.lacuna.io.format;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Encode and decode speed of a large dense float32 model (issue #4's target: 200 MB/s of dense fp32 input). Not a
 * test: timings do not belong in assertions. Run from modules/io after {@code test-compile}:
 * {@code java -Xmx6g -cp target/classes:target/test-classes:<jackson + core jars> dev.lacuna.io.format.ThroughputMain
 * HIDDEN DIR}
 */
public final class ThroughputMain {
    private ThroughputMain() {
    }

    private static double seconds(long from, long to) {
        return (to - from) / 1e9;
    }

    public static void main(String[] args) throws Exception {
        int hidden = Integer.parseInt(args[0]);
        Path dir = Path.of(args[1]);
        Architecture arch = Architecture.of(CellType.LSTM, 96, 256, hidden, 2);
        StringBuilder symbols = new StringBuilder();
        for (int c = 32; c < 32 + 96; c++) {
            symbols.appendCodePoint(c);
        }
        Model model = Model.initialize(arch, Vocabulary.of(symbols.toString()), 1);
        double megabytes = 4.0 * arch.parameterCount() / 1e6;
        Path file = dir.resolve("throughput.lacuna");
        for (int round = 0; round < 3; round++) {
            long t0 = System.nanoTime();
            EncodedModel encoded = LacunaFormat.encode(model, EncodingOptions.lossless());
            encoded.writeTo(OutputStream.nullOutputStream());
            long t1 = System.nanoTime();
            encoded.write(file); // includes fsync: bounded by the disk, reported apart
            long t2 = System.nanoTime();
            byte[] bytes = Files.readAllBytes(file);
            long t3 = System.nanoTime();
            Model back = LacunaReader.read(file, bytes).model();
            long t4 = System.nanoTime();
            System.out.printf(Locale.ROOT, "%,d parameters (%.0f MB fp32): encode %.0f MB/s, decode %.0f MB/s;"
                    + " file write with fsync %.0f MB/s, file read %.0f MB/s (%d tensors)%n",
                    arch.parameterCount(), megabytes, megabytes / seconds(t0, t1), megabytes / seconds(t3, t4),
                    megabytes / seconds(t1, t2), megabytes / seconds(t2, t3), back.tensors().size());
        }
        Files.deleteIfExists(file);
    }
}
