export type { ChartSpec, Experiment, ExperimentOptions, ProgressEvent, ReportSection } from './experiment.js';
