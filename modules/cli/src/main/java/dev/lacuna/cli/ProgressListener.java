package dev.lacuna.cli;

import dev.lacuna.train.TrainingListener;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows training progress on stderr: step, train bpc, sparsity and ETA. On a terminal it redraws one progress bar;
 * otherwise (a log file, a CI job, a test) it prints a plain line at every 10% so logs stay readable.
 *
 * <p>The train bpc shown is an exponential moving average (weight 0.1 on the newest step): single batches are
 * too noisy to read.
 */
final class ProgressListener implements TrainingListener {
    private static final double SMOOTHING = 0.1;
    private static final int PLAIN_REPORTS = 10;

    private final String task;
    private final PrintWriter err;
    private final boolean interactive;
    private ProgressBar bar;
    private long total;
    private long nextPlainReport;
    private long startNanos;
    private double smoothedBpc = Double.NaN;
    private double lastHeldOutBpc = Double.NaN;

    private ProgressListener(String task, PrintWriter err, boolean interactive) {
        this.task = task;
        this.err = err;
        this.interactive = interactive;
    }

    /** A listener drawing a bar when stderr is a terminal, plain lines to {@code err} otherwise. */
    static ProgressListener create(String task, PrintWriter err) {
        return new ProgressListener(task, err, Terminal.stderrIsInteractive());
    }

    /** A listener that always prints plain lines (tests, logs). */
    static ProgressListener plain(String task, PrintWriter err) {
        return new ProgressListener(task, err, false);
    }

    @Override
    public void onStart(long totalSteps) {
        total = Math.max(1, totalSteps);
        startNanos = System.nanoTime();
        nextPlainReport = firstPlainReport();
        if (interactive) {
            err.flush();
            // Our own consumer with a fixed width: the default one probes the terminal through JLine.
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err, 120)).setUpdateIntervalMillis(500)
                    .build();
        }
    }

    @Override
    public void onStep(long step, double trainBpc, double sparsity) {
        smoothedBpc = Double.isNaN(smoothedBpc) ? trainBpc : smoothedBpc + SMOOTHING * (trainBpc - smoothedBpc);
        long done = completed(step);
        if (bar != null) {
            bar.stepTo(done);
            bar.setExtraMessage(status(sparsity));
        } else if (done >= nextPlainReport) {
            err.println(plainLine(done, sparsity));
            err.flush();
            while (nextPlainReport <= done) {
                nextPlainReport += firstPlainReport();
            }
        }
    }

    @Override
    public void onEvaluation(long step, double bpcVal) {
        lastHeldOutBpc = bpcVal;
        if (bar == null) {
            err.printf(Locale.ROOT, "%s: held-out bpc %.4f after %d steps%n", task, bpcVal, step);
            err.flush();
        }
    }

    /** Closes the bar; safe to call more than once. */
    @Override
    public void onFinish() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    // onStep receives the 0-based index of the step just finished; progress counts completed steps.
    private static long completed(long step) {
        return step + 1;
    }

    private long firstPlainReport() {
        return Math.max(1, total / PLAIN_REPORTS);
    }

    private String status(double sparsity) {
        String text = String.format(Locale.ROOT, "train bpc %.3f, sparsity %.1f%%", smoothedBpc, 100 * sparsity);
        if (!Double.isNaN(lastHeldOutBpc)) {
            text += String.format(Locale.ROOT, ", held-out bpc %.3f", lastHeldOutBpc);
        }
        return text;
    }

    private String plainLine(long done, double sparsity) {
        Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
        Duration eta = elapsed.multipliedBy(total - done).dividedBy(Math.max(1, done));
        return String.format(Locale.ROOT, "%s: step %d/%d (%d%%), %s, elapsed %s, eta %s", task, done, total,
                100 * done / total, status(sparsity), clock(elapsed), clock(eta));
    }

    private static String clock(Duration d) {
        long s = d.toSeconds();
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
