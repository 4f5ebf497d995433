export {
  type ArmTotals,
  type BurnRateEvidence,
  burnRateGuard,
  type DecideOptions,
  type Decision,
  type DecisionKind,
  type DecisionRule,
  decide,
  type Evidence,
  type LatencyEvidence,
  quantile,
  type SeriesPoint,
  type TestEvidence,
} from "./decide.ts";
export { CHART_COLORS, errorRateChart, evidenceTable } from "./explain.ts";
export {
  type BackendOptions,
  evaluateGate,
  type GateDecision,
  type GateDeps,
  type GateInput,
  openBackend,
  type WatchDeps,
  watchGate,
} from "./gate.ts";
export type { ArmSample, Histogram, IntervalObservation, Observations } from "./observations.ts";
export { authFor, type GateOptions, gateInput } from "./options.ts";
export {
  AZURE_MONITOR_PROMETHEUS_SCOPE,
  createPrometheusClient,
  type InstantSample,
  type Point,
  type PrometheusAuth,
  type PrometheusClient,
  type PrometheusClientOptions,
  type QueryData,
  type QueryResult,
  type RangeOptions,
  type RangeSeries,
  type TokenCredentialLike,
} from "./prometheus.ts";
export { escapeLabelValue, escapeRegex, type LabelMatcher, parseDuration, renderTemplate } from "./promql.ts";
export { normal, poisson, prng } from "./random.ts";
export { evaluateRange, increase, parseOpenMetrics, type ReplaySeries, replayBackend } from "./replay.ts";
export {
  namedScenario,
  SCENARIO_DECISIONS,
  type ScenarioName,
  type ScenarioSpec,
  scenarioOpenMetrics,
} from "./scenarios.ts";
export { CANARY_SERVE_MARKDOWN } from "./serve/docs.ts";
export { type FlaggerHook, flaggerStatus } from "./serve/flagger.ts";
export type { ServeAnswer } from "./serve/judge.ts";
export { type CanaryServer, type CanaryServerOptions, startCanaryServer } from "./serve.ts";
export {
  type ArmSelectors,
  type CustomQueries,
  fetchObservations,
  type Mesh,
  type MetricQuery,
  type MetricsBackend,
  planQueries,
  prometheusBackend,
  type QueryShape,
  type RangeWindow,
  type SourceConfig,
} from "./sources.ts";
export {
  DEFAULT_TEST_OPTIONS,
  type OneSidedTest,
  type PairCounts,
  ratioBounds,
  type SequentialTestOptions,
  type SequentialTestResult,
  sequentialTest,
} from "./stats.ts";
