import {
  createHttpPoller,
  type OperationResponse,
  type OperationState,
  type PollerLike,
  type RunningOperation,
} from "@azure/core-lro";
import { PlatformError } from "@platform/core";
import { type ArmClient, type ArmResponse, armFailure } from "./arm.ts";

type Poller = PollerLike<OperationState<unknown>, unknown>;

export interface LroOptions {
  /** Poll interval when ARM sends no Retry-After (ms). */
  intervalMs: number;
  /** Stops polling (the step's deadline, or an interruption). */
  signal: AbortSignal;
  /** Receives the poller's serialized state once ARM accepted the request (to resume after a crash). */
  onSubmitted?: (serialized: string) => Promise<void>;
  /** Called after every poll (heartbeat). */
  onPoll?: () => Promise<void>;
}

function operationResponse(r: ArmResponse, method: string, body: unknown): OperationResponse {
  return {
    flatResponse: r.body,
    rawResponse: {
      statusCode: r.status,
      headers: r.headers,
      body: r.body,
      request: { method, url: r.url, body },
    },
  };
}

function lroFor(arm: ArmClient, what: string, initial: () => Promise<ArmResponse>, signal: AbortSignal) {
  const op: RunningOperation = {
    sendInitialRequest: async () => {
      const r = await initial();
      if (r.status >= 300) throw armFailure(r, what);
      return operationResponse(r, "PATCH", undefined);
    },
    sendPollRequest: async (url) => {
      const r = await arm.send("GET", url, { signal });
      if (r.status >= 400) throw armFailure(r, `polling ${what}`);
      return operationResponse(r, "GET", undefined);
    },
  };
  return op;
}

/**
 * Runs one ARM long-running PATCH (Azure-AsyncOperation) to its end with @azure/core-lro, or continues one
 * from `restoreFrom` (the serialized poller a crashed run saved). ARM's operation error becomes a
 * PlatformError with its code; the resource itself is read back by the caller, not taken from here.
 */
export async function runLro(
  arm: ArmClient,
  request: { path: string; apiVersion: string; body: unknown; what: string },
  o: LroOptions & { restoreFrom?: string },
): Promise<void> {
  const send = () =>
    arm.send("PATCH", request.path, { apiVersion: request.apiVersion, body: request.body, signal: o.signal });
  const poller: Poller = createHttpPoller(lroFor(arm, request.what, send, o.signal), {
    intervalInMs: o.intervalMs,
    resourceLocationConfig: "azure-async-operation",
    skipFinalGet: true,
    ...(o.restoreFrom ? { restoreFrom: o.restoreFrom } : {}),
  });
  try {
    await poller.submitted();
    if (!o.restoreFrom) await o.onSubmitted?.(await poller.serialize());
    // A heartbeat that fails is not the operation failing: the next awaited save reports it.
    if (o.onPoll) poller.onProgress(() => void o.onPoll?.().catch(() => {}));
    await poller.pollUntilDone({ abortSignal: o.signal });
  } catch (err) {
    if (o.signal.aborted) throw o.signal.reason ?? err;
    if (err instanceof PlatformError) throw err;
    throw lroError(err, request.what);
  }
  const state = poller.operationState;
  if (state?.status === "canceled")
    throw new PlatformError("DR_LRO_Canceled", `${request.what}: ARM canceled the operation`, {
      category: "environment",
      hint: "Someone or something canceled it; re-run the drill to try again.",
    });
}

function lroError(err: unknown, what: string): PlatformError {
  const message = err instanceof Error ? err.message : String(err);
  // core-lro: "The long-running operation has failed. <code>. <message>"
  const m = /^The long-running operation has failed\. ([A-Za-z0-9_.]+)\. ([\s\S]*)$/.exec(message);
  const code = m?.[1] ?? "OperationFailed";
  // ARM ran the operation and it failed: the failover does not work as configured, which is the drill's finding.
  return new PlatformError(
    `DR_LRO_${code}`,
    `${what}: the operation failed: ${m ? `${code}: ${m[2]}` : message}`,
    {
      category: "verdict",
      hint: "Fix what ARM names and re-run the drill: steps already done are detected and kept.",
      cause: err,
    },
  );
}
