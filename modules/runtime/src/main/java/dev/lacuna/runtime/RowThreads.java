package dev.lacuna.runtime;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Helper threads that each take one part of a matrix product's rows while the calling thread computes the first
 * part.
 *
 * <p>Why not an executor: a token step is a handful of products of 5-300 µs each, and waking a parked pool thread
 * costs about as much as the part it would take. Splitting a 1760² or 2560² product at 90% sparsity in two through
 * {@code ForkJoinPool.commonPool()} measured 0.84-0.98x of one thread on this machine, the same split handed to a
 * spinning helper 1.9-2.0x (docs/runtime.md, "Threads"). So a helper spins for {@link #SPIN_NANOS} after each part,
 * and a stream of products finds it awake, then parks, and an idle model costs no CPU.
 *
 * <p>One product at a time owns the helpers: a thread that finds them busy computes its product alone, so
 * concurrent callers of one compiled model never wait for each other. A part's rows are computed by the same code
 * whichever thread runs them, so results do not depend on the thread count.
 */
final class RowThreads {
    /** A kernel over rows {@code from..to-1}. */
    interface RowRange {
        void run(int from, int to);
    }

    /** How long a helper stays awake after its last part, in nanoseconds. */
    static final long SPIN_NANOS = 200_000;

    private static final RowThreads SINGLE = new RowThreads(1);
    private static final ConcurrentHashMap<Integer, RowThreads> SHARED = new ConcurrentHashMap<>();

    private final int threads;
    private final Helper[] helpers;
    private final AtomicBoolean busy = new AtomicBoolean();
    /** Number of the current split product; written only by the thread that holds {@link #busy}. */
    private long product;

    private RowThreads(int threads) {
        this.threads = threads;
        this.helpers = new Helper[threads - 1];
        for (int i = 0; i < helpers.length; i++) {
            helpers[i] = new Helper("lacuna-rows-" + threads + "-" + (i + 1));
        }
    }

    /**
     * Helpers for products split {@code threads} ways, shared by every model compiled for that many threads (their
     * {@code threads - 1} daemon threads start on first use and park when idle).
     */
    static RowThreads of(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be positive, found " + threads);
        }
        return threads == 1 ? SINGLE : SHARED.computeIfAbsent(threads, RowThreads::new);
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code task} over the parts {@code [bounds[p], bounds[p + 1])}: the first on the calling thread, the
     * others on helpers (or on the calling thread too when another product holds the helpers). Returns when every
     * part is done; a part's exception is rethrown here.
     */
    void run(int[] bounds, RowRange task) {
        int parts = bounds.length - 1;
        if (parts == 1 || parts > threads || !busy.compareAndSet(false, true)) {
            for (int p = 0; p < parts; p++) {
                task.run(bounds[p], bounds[p + 1]);
            }
            return;
        }
        try {
            long n = ++product;
            for (int p = 1; p < parts; p++) {
                helpers[p - 1].post(task, bounds[p], bounds[p + 1], n);
            }
            Throwable failure = null;
            try {
                task.run(bounds[0], bounds[1]);
            } catch (Throwable e) {
                failure = e;
            }
            for (int p = 1; p < parts; p++) {
                Throwable helperFailure = helpers[p - 1].await(n);
                if (failure == null) {
                    failure = helperFailure;
                }
            }
            if (failure instanceof RuntimeException e) {
                throw e;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            if (failure != null) {
                throw new IllegalStateException(failure);
            }
        } finally {
            busy.set(false);
        }
    }

    /** One daemon thread that runs the parts posted to it. */
    private static final class Helper implements Runnable {
        private final Thread thread;
        // Written by the poster before the volatile write of `posted`, read by the helper after reading it.
        private RowRange task;
        private int from;
        private int to;
        // Written by the helper before the volatile write of `finished`, read by the poster after reading it.
        private Throwable failure;
        private volatile long posted;
        private volatile long finished;
        private volatile boolean parked;

        Helper(String name) {
            thread = new Thread(this, name);
            thread.setDaemon(true);
            thread.start();
        }

        void post(RowRange task, int from, int to, long n) {
            this.task = task;
            this.from = from;
            this.to = to;
            posted = n;
            // The helper sets `parked` before it re-reads `posted` and parks, so either it sees this post or this
            // thread sees it parked; an unpark before the park makes the park return at once.
            if (parked) {
                LockSupport.unpark(thread);
            }
        }

        Throwable await(long n) {
            int spins = 0;
            while (finished != n) {
                if (++spins < 1 << 14) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield(); // the helper may have lost its core to another process
                }
            }
            Throwable f = failure;
            failure = null;
            return f;
        }

        @Override
        public void run() {
            long seen = 0;
            while (true) {
                long idleSince = System.nanoTime();
                long n;
                while ((n = posted) == seen) {
                    if (System.nanoTime() - idleSince < SPIN_NANOS) {
                        Thread.onSpinWait();
                        continue;
                    }
                    parked = true;
                    if (posted == seen) {
                        LockSupport.park(this);
                    }
                    parked = false;
                    idleSince = System.nanoTime();
                }
                seen = n;
                RowRange t = task;
                task = null;
                try {
                    t.run(from, to);
                } catch (Throwable e) {
                    failure = e;
                }
                finished = n;
            }
        }
    }
}
