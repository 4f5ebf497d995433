// The server's HTTP plumbing: bounded request bodies, JSON in and out, and 405 answers.
import type { IncomingMessage, ServerResponse } from "node:http";
import { errorMessage, PlatformError } from "@platform/core";

/** A query or metadata flag: absent is `fallback`; false, 0, no and off are false. */
export function truthy(v: string | undefined, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  return !/^(false|0|no|off)$/i.test(v);
}

/** Whether a parsed JSON value is an object (not an array or null). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The body as JSON; an empty body is undefined unless `required`. */
export function parseJson(text: string, required: boolean): unknown {
  if (text.trim() === "") {
    if (!required) return undefined;
    throw new PlatformError("SERVE_BAD_BODY", "The request has no body", {
      hint: "Flagger POSTs a JSON payload; send one.",
    });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PlatformError("SERVE_BAD_BODY", `The request body is not JSON: ${errorMessage(err)}`, {
      hint: "Send a JSON object with Content-Type: application/json.",
    });
  }
}

/** Reads the body up to `max` bytes; a larger one is drained (not buffered) and refused, so the client still gets the 413. */
export function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    let over = Number.isFinite(declared) && declared > max;
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) over = true;
      if (over) chunks.length = 0;
      else chunks.push(chunk);
    });
    req.on("end", () => {
      if (over)
        reject(
          new PlatformError("SERVE_BODY_TOO_LARGE", `The request body is larger than ${max} bytes`, {
            hint: "Webhook payloads are small; send only the gate parameters.",
          }),
        );
      else resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}

/** Answers with a JSON body (headers only for HEAD). */
export function send(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(head ? undefined : text);
}

/** Answers 405 naming the methods the endpoint accepts. */
export function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader("allow", allow);
  send(res, 405, {
    error: {
      code: "SERVE_METHOD_NOT_ALLOWED",
      message: `Use ${allow}`,
      hint: `This endpoint accepts ${allow}.`,
    },
  });
}
