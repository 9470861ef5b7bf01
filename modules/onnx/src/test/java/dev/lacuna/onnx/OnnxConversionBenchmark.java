package dev.lacuna.onnx;

import dev.lacuna.core.Model;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.ThreadMXBean;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Issue #3's conversion target, measured (run by {@code tools/onnx-100m.sh}, not by the test suite): import of an
 * ONNX file plus export of the model, against copying the same file.
 *
 * <pre>
 *   measure MODEL.onnx [ROUNDS]   in this JVM, ROUNDS rounds (default 5), each in a new seeded order, of:
 *                                 Files.copy + fsync, cp, cp + sync (external processes), import + export none,
 *                                 import + export scatter; medians of wall and CPU time, ratios to the synced copy,
 *                                 and per task the sum of the heap pools' peak usage
 *   once MODEL.onnx OUT.onnx MODE one import + export (MODE none or scatter), then one line with its time (cold
 *                                 JVM) and the heap pools' peak usage; tools/onnx-100m.sh runs it in a child JVM
 *                                 with -Xmx = 1.5 x the file
 * </pre>
 *
 * <p>Every copy and export writes a new file beside the model (same file system) and deletes it afterwards. The
 * export goes through {@link OnnxExporter#write}, so it includes what the product pays: the temporary file, fsync
 * and the atomic rename of {@link dev.lacuna.io.AtomicFiles}. The synced copy is the like-for-like comparison; the
 * unsynced {@code cp} is printed for reference.
 */
public final class OnnxConversionBenchmark {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private OnnxConversionBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("measure")) {
            measure(Path.of(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 5);
        } else if (args.length == 4 && args[0].equals("once")) {
            resetPeaks();
            long t0 = System.nanoTime();
            convert(Path.of(args[1]), Path.of(args[2]), SparseMode.parse("MODE", args[3]));
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "%.2f s (cold), heap peak (sum of pool peaks) %d bytes = %.3f x file%n",
                    seconds, heapPeak(), (double) heapPeak() / Files.size(Path.of(args[1])));
        } else {
            System.err.println("usage: OnnxConversionBenchmark measure MODEL.onnx [ROUNDS]"
                    + " | once MODEL.onnx OUT.onnx none|scatter");
            System.exit(2);
        }
    }

    /** The operation the target is about: {@link OnnxImporter#read} then {@link OnnxExporter#write}. */
    static void convert(Path model, Path out, SparseMode mode) {
        Model imported = OnnxImporter.read(model);
        OnnxExporter.write(imported, out, ExportOptions.defaults().withSparse(mode));
    }

    private interface Task {
        void run() throws Exception;
    }

    private static void measure(Path model, int rounds) throws Exception {
        long size = Files.size(model);
        Path folder = model.toAbsolutePath().getParent();
        Path copy = folder.resolve("bench-copy.onnx");
        Path out = folder.resolve("bench-export.onnx");
        Map<String, Task> tasks = new LinkedHashMap<>();
        tasks.put("Files.copy + fsync", () -> {
            Files.copy(model, copy, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel channel = FileChannel.open(copy, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
        });
        tasks.put("cp (external, unsynced)", () -> run("cp", model.toString(), copy.toString()));
        tasks.put("cp + sync FILE (external)", () -> run("sh", "-c", "cp \"$0\" \"$1\" && sync \"$1\"",
                model.toString(), copy.toString()));
        tasks.put("import + export none", () -> convert(model, out, SparseMode.NONE));
        tasks.put("import + export scatter", () -> convert(model, out, SparseMode.SCATTER));

        System.out.printf(Locale.ROOT, "model %s: %,d bytes; %d rounds; load average at start %s%n", model, size,
                rounds, loadAverage());
        // warm-up: the file into the page cache, the JIT through every path once
        for (Task task : tasks.values()) {
            task.run();
            clean(copy, out);
        }
        Map<String, List<double[]>> samples = new LinkedHashMap<>();
        tasks.keySet().forEach(name -> samples.put(name, new ArrayList<>()));
        for (int round = 0; round < rounds; round++) {
            // a new order every round (seeded), so that no task always runs first or after the same neighbour
            List<String> order = new ArrayList<>(tasks.keySet());
            Collections.shuffle(order, new Random(round));
            for (String name : order) {
                System.gc();
                resetPeaks();
                long cpu0 = processCpuNanos();
                long thread0 = THREADS.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                tasks.get(name).run();
                long wall = System.nanoTime() - t0;
                long thread = THREADS.getCurrentThreadCpuTime() - thread0;
                long cpu = processCpuNanos() - cpu0;
                samples.get(name).add(new double[] {wall / 1e9, thread / 1e9, cpu / 1e9, heapPeak()});
                clean(copy, out);
            }
        }
        double reference = median(samples.get("Files.copy + fsync"), 0);
        System.out.printf(Locale.ROOT, "%-27s %9s %9s %9s %9s %10s%n", "median of " + rounds, "wall s", "x copy",
                "thread s", "JVM cpu s", "heap peak");
        samples.forEach((name, list) -> System.out.printf(Locale.ROOT, "%-27s %9.3f %9.2f %9.3f %9.3f %9.2fx%n",
                name, median(list, 0), median(list, 0) / reference, median(list, 1), median(list, 2),
                median(list, 3) / size));
        samples.forEach((name, list) -> System.out.printf(Locale.ROOT, "%-27s walls %s%n", name,
                Arrays.toString(list.stream().mapToDouble(s -> Math.round(s[0] * 1000) / 1000.0).toArray())));
        System.out.printf(Locale.ROOT, "load average at end %s%n", loadAverage());
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).inheritIO().start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed");
        }
    }

    private static void clean(Path... files) throws IOException {
        for (Path f : files) {
            Files.deleteIfExists(f);
        }
    }

    private static double median(List<double[]> samples, int column) {
        double[] values = samples.stream().mapToDouble(s -> s[column]).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    private static void resetPeaks() {
        ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
    }

    /** Sum over heap pools of each pool's peak: an upper bound on the heap in use at any one moment. */
    private static long heapPeak() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    private static long processCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return String.join(" ", fields[0], fields[1], fields[2]);
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
