// `@platform/policy/suites`: what `platform policy test` runs (gator and Kyverno suites, the CEL engine, Rego
// through OPA) without the rest of the package. The CLI loads this on every `policy test`; the full barrel
// also links the config-repo check (manifest rendering, presets parsed at import, git, SARIF), which a suite
// run never calls (issue 18: about 40% less code parsed and run at start-up).
export { opaRegoCompiler, type RegoCompiler } from "./admission/engines.ts";
export { type CaseResult, runGatorSuites, runKyvernoTests } from "./admission/suites.ts";
export { type CelEngine, type CelProgram, createCelEngine } from "./cel/engine.ts";
