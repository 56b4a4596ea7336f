export { readRun, readRuns, type CaseResult as ReportedCase, type EditProtocol, type EvalRun, type RunParams, type RunSummary as ReportedRunSummary } from './read-runs.js';
export { renderReportHtml, renderReportMarkdown, type ReportOptions } from './render-report.js';
export { commonParent } from './common-parent.js';
export { defaultReportFile, writeReport, type WrittenReport } from './write-report.js';
export { reportCommand } from './report-command.js';
