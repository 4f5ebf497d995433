export { mapLimit } from "./async.ts";
export { platformCacheDir, privateCacheDir } from "./cache-dir.ts";
export {
  defaultConfig,
  loadConfig,
  type PlatformConfig,
  PlatformConfigSchema,
  parseConfig,
  type TenancySettings,
  tenancySettings,
} from "./config.ts";
export { type DrConfig, DrConfigSchema } from "./dr-config.ts";
export {
  type ErrorCategory,
  ExitCode,
  errorMessage,
  exitCodeFor,
  isPlatformError,
  PlatformError,
  type PlatformErrorOptions,
} from "./errors.ts";
export { type FleetConfig, FleetConfigSchema } from "./fleet-config.ts";
export { writeFileAtomic } from "./fs.ts";
export { backoffDelay, fetchWithRetry, parseRetryAfter, type RetryOptions, redactUrl } from "./http.ts";
export {
  checkImageReference,
  IMAGE_GRAMMAR,
  type ImageRef,
  type ImageReferenceCheck,
  isTrustedImage,
  NAME_MAX_LENGTH,
  parseImageRef,
  TAG_MAX_LENGTH,
} from "./image.ts";
export { jwtClaims } from "./jwt.ts";
export { type ParseListOptions, parseList } from "./list.ts";
export {
  consoleSink,
  createLogger,
  type Logger,
  type LogLevel,
  type LogSink,
  Masker,
  memoryLogger,
} from "./log.ts";
export { SARIF_SCHEMA, type SarifLog, type SarifTool, sarifLocation, sarifLog } from "./sarif.ts";
export {
  digestDetails,
  escapeMarkdown,
  formatCount,
  headline,
  markdownTable,
  type SourceLinks,
  shortDigest,
  sourceLink,
  sourceUrl,
  type TableCell,
  type TableRow,
  type Verdict,
} from "./summary.ts";
export {
  DEFAULT_YAML_LIMITS,
  lineIndex,
  parseYamlStream,
  type YamlDoc,
  type YamlLimits,
  type YamlStream,
} from "./yaml.ts";
export { decodeManifestBytes, parseManifestStream } from "./yaml-apiserver.ts";
export { parseManifestStreamCached } from "./yaml-cache.ts";
