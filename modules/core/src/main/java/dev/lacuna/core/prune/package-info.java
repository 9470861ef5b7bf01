/**
 * Gradual magnitude pruning during training after Narang et al. 2017 (N17, "Exploring Sparsity in Recurrent Neural
 * Networks"): a threshold that grows with the step ({@link dev.lacuna.core.prune.GradualSchedule}), the step
 * boundaries of that growth ({@link dev.lacuna.core.prune.ScheduleSteps}), and the policy that turns the threshold
 * into masks for the trainer ({@link dev.lacuna.core.prune.GradualPruningPolicy}).
 *
 * <p>The baselines it is compared with implement the same {@link dev.lacuna.core.PruningPolicy} contract:
 * {@link dev.lacuna.core.prune.AgpPruningPolicy} (Zhu &amp; Gupta's cubic schedule, {@link
 * dev.lacuna.core.prune.AgpSchedule}), {@link dev.lacuna.core.prune.HanPruningPolicy} (one prune-retrain round of Han
 * et al. 2015) and {@link dev.lacuna.core.prune.OneShotPruningPolicy} (hard pruning); {@link
 * dev.lacuna.core.prune.PruningMethod} names them all.
 *
 * <p>Everything here is plain Java and a pure function of the step and the weights it is given.
 */
package dev.lacuna.core.prune;
