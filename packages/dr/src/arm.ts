import type { TokenCredential } from "@azure/core-auth";
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient,
  type Pipeline,
} from "@azure/core-rest-pipeline";
import { errorMessage, type Logger, PlatformError } from "@platform/core";

export const PUBLIC_ARM_ENDPOINT = "https://management.azure.com";

/** An ARM answer: status, lower-cased headers and the parsed JSON body. */
export interface ArmResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** The URL it answered (absolute). */
  url: string;
}

/** The drill's door to ARM: one method, so tests and the CLI share it. */
export interface ArmClient {
  readonly endpoint: string;
  /** Sends a request to a path below the endpoint (with api-version) or to an absolute URL on the same host. */
  send(
    method: string,
    pathOrUrl: string,
    o?: { apiVersion?: string; body?: unknown; signal?: AbortSignal },
  ): Promise<ArmResponse>;
}

export interface ArmClientOptions {
  /** The cloud's Resource Manager URL; the public cloud by default. */
  armEndpoint?: string;
  /** Extra trusted CA (PEM): a TLS-inspecting proxy, Azure Stack, a local fake. */
  ca?: string;
  log?: Logger;
  /** Retries of 429 (after Retry-After), 5xx and connection failures (default 4). */
  maxRetries?: number;
  /** Counts every request the client sends (tests, benchmark). */
  onRequest?: (method: string, url: string) => void;
}

function endpointOf(armEndpoint: string | undefined): string {
  const endpoint = (armEndpoint ?? PUBLIC_ARM_ENDPOINT).replace(/\/+$/, "");
  const url = URL.parse(endpoint);
  if (url?.protocol !== "https:") {
    throw new PlatformError("DR_ARM_ENDPOINT_INVALID", `arm-endpoint "${endpoint}" is not an https URL`, {
      input: "arm-endpoint",
      hint: "Use the cloud's Resource Manager URL, e.g. https://management.azure.com.",
    });
  }
  return endpoint;
}

/**
 * An ARM client on @azure/core-rest-pipeline (the Azure SDKs' own pipeline): bearer tokens for
 * `<endpoint>/.default` from the credential, throttling (429 with Retry-After) and 5xx retries, TLS trust.
 * The token lives in the pipeline only: requests are logged by method and path, never with headers.
 */
export function createArmClient(credential: TokenCredential, o: ArmClientOptions = {}): ArmClient {
  const endpoint = endpointOf(o.armEndpoint);
  const origin = new URL(endpoint).origin;
  const pipeline: Pipeline = createPipelineFromOptions({
    retryOptions: { maxRetries: o.maxRetries ?? 4, retryDelayInMs: 500, maxRetryDelayInMs: 30_000 },
    ...(o.ca ? { tlsOptions: { ca: o.ca } } : {}),
    userAgentOptions: { userAgentPrefix: "platform-dr" },
  });
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: `${endpoint}/.default` }));
  if (o.onRequest) {
    pipeline.addPolicy({
      name: "platformRequestCounter",
      sendRequest: (req, next) => {
        o.onRequest?.(req.method, req.url);
        return next(req);
      },
    });
  }
  const http: HttpClient = createDefaultHttpClient();
  return {
    endpoint,
    async send(method, pathOrUrl, opts = {}) {
      const url = new URL(pathOrUrl, `${endpoint}/`);
      // The bearer token goes to the ARM host only: an operation URL elsewhere is refused, not followed.
      if (url.origin !== origin) {
        throw new PlatformError(
          "DR_ARM_FOREIGN_URL",
          `ARM pointed the drill at ${url.origin}, which is not ${origin}; the request was not sent`,
          {
            category: "environment",
            hint: "Check arm-endpoint (sovereign clouds have their own Resource Manager URL).",
          },
        );
      }
      if (opts.apiVersion) url.searchParams.set("api-version", opts.apiVersion);
      const request = createPipelineRequest({
        url: url.href,
        method: method.toUpperCase() as "GET",
        headers: createHttpHeaders(
          opts.body !== undefined ? { "content-type": "application/json", accept: "application/json" } : {},
        ),
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        ...(opts.signal ? { abortSignal: opts.signal } : {}),
      });
      o.log?.debug(`${request.method} ${url.pathname}`);
      let response: Awaited<ReturnType<Pipeline["sendRequest"]>>;
      try {
        response = await pipeline.sendRequest(http, request);
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        throw new PlatformError(
          "DR_ARM_UNREACHABLE",
          `${request.method} ${url.pathname}: ${errorMessage(err)}`,
          {
            category: "environment",
            hint: "Check that Resource Manager is reachable from this runner and that the credential can sign in.",
            cause: err,
          },
        );
      }
      const text = response.bodyAsText ?? "";
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      return { status: response.status, headers: response.headers.toJSON(), body, url: url.href };
    },
  };
}

/** ARM's error code and message from an answer (common-types ErrorResponse). */
export function armErrorOf(r: ArmResponse): { code: string; message: string } {
  const e = (r.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  return { code: e?.code ?? `HTTP${r.status}`, message: e?.message ?? `HTTP ${r.status}` };
}

/** A failed ARM answer as a PlatformError with ARM's code and a fix for the common ones. */
export function armFailure(r: ArmResponse, what: string): PlatformError {
  const { code, message } = armErrorOf(r);
  const hint =
    r.status === 401 || r.status === 403
      ? "Grant the workflow's identity the roles the drill needs: CDN Profile Contributor on the Front Door profile, Kubernetes Extension Contributor on the standby cluster, Contributor on the registry's replication."
      : r.status === 404
        ? "Check the names in platform.yaml dr (resource groups, cluster, Flux configurations, origins, replication)."
        : r.status === 409
          ? "Another operation is running on the resource; wait for it and re-run: the drill resumes."
          : "See ARM's error; fix it and re-run the drill: completed steps are detected and kept.";
  return new PlatformError(`DR_ARM_${code}`, `${what}: ${code} (HTTP ${r.status}): ${message}`, {
    category:
      r.status >= 400 && r.status < 500 && r.status !== 409 && r.status !== 429 ? "usage" : "environment",
    hint,
  });
}

/** GETs a resource and returns its body; a non-200 answer is an error. */
export async function getResource<T>(
  arm: ArmClient,
  path: string,
  apiVersion: string,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  const r = await arm.send("GET", path, { apiVersion, signal });
  if (r.status !== 200) throw armFailure(r, `reading ${what}`);
  return r.body as T;
}
