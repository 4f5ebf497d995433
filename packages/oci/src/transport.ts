// Uploads of large bodies through node:http(s) instead of fetch: undici's fetch moves a 20 MB
// Uint8Array body through web streams and measured 1.5–3× slower than http.request writing the
// buffer (test/bench/oci.mjs), which decided the push benchmark against skopeo. Same contract as
// fetch for what the client uses: method, headers, a Uint8Array body, an AbortSignal; the answer is a
// Response with status, headers, the (small) body and `url` set to the request URL.
import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";

// Required on first use, not imported: the ESM namespace of node:http reads every export, undici's WebSocket
// among them, and http/https/tls load at start-up of every command that merely links this module.
const nodeRequire = createRequire(import.meta.url);

/** Bodies at least this large go through node:http(s). */
export const NODE_UPLOAD_MIN_BYTES = 256 * 1024;

export const nodeUploadFetch: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const body = init?.body;
  if (!(body instanceof Uint8Array)) return fetch(input, init);
  const headers: Record<string, string> = {};
  new Headers(init?.headers).forEach((v, k) => {
    headers[k] = v;
  });
  headers["content-length"] = String(body.byteLength);
  const send =
    url.protocol === "https:"
      ? (nodeRequire("node:https") as typeof import("node:https")).request
      : (nodeRequire("node:http") as typeof import("node:http")).request;
  return new Promise<Response>((resolve, reject) => {
    const req = send(
      url,
      { method: init?.method ?? "GET", headers, signal: init?.signal ?? undefined },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => resolve(toResponse(res, Buffer.concat(chunks), url)));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
};

function toResponse(res: IncomingMessage, body: Buffer, url: URL): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
  }
  const status = res.statusCode ?? 502;
  // 1xx/204/304 answers may not carry a body in a Response.
  const empty = status === 204 || status === 304 || status < 200;
  const response = new Response(empty ? null : new Uint8Array(body), {
    status,
    statusText: res.statusMessage ?? "",
    headers,
  });
  Object.defineProperty(response, "url", { value: url.toString() });
  return response;
}
