/** The HTML report of a run: built from the run's files, opened offline, or served live. */
export type { Lang, Section, RunManifest, HistoryFile, ParamValue, SweepSettings, SweepManifest, TrialRecord } from './types.js';
export { buildReport, loadRun, readManifest, liveState, RUN_FILE, SWEEP_FILE, RESULTS_FILE, REPORT_FILE } from './build.js';
export { serveReport, type ReportServer } from './serve.js';
export { RunLog } from './run-log.js';
export { renderReport, rankingTable, rankTrials, escapeHtml, type ReportInput } from './html.js';
export { curvesSpec, confusionSpec, sweepSpec, historyRows, varyingParams } from './charts.js';
export { writeFileAtomic, appendJsonLine, readJsonLines, readJson } from './files.js';
