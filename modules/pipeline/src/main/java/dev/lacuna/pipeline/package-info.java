/**
 * Lacuna's high-level experiments and their reports: {@link dev.lacuna.pipeline.CompareExperiment} (every pruning
 * method from one dense model on one budget, plus a width sweep), {@link dev.lacuna.pipeline.SchedulePlan} (a
 * gradual schedule previewed without training), {@link dev.lacuna.pipeline.SensitivityAnalysis} (each tensor pruned
 * alone) and {@link dev.lacuna.pipeline.ReportFiles} (JSON, Markdown and self-contained HTML with inline SVG plots).
 * Front ends (the CLI, the Maven plugin) only parse options and call these.
 */
package dev.lacuna.pipeline;
