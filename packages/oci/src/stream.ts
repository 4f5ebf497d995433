// Stream helpers: digest-verifying streams, sequential readers over a stream, and size-capped bodies.
import { PlatformError } from "@platform/core";
import { digestMismatch, hasherFor } from "./types.ts";

export interface BlobReader {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A TransformStream that hashes what passes and errors at the end on a digest or size mismatch. */
export function verifyingStream(
  digest: string,
  size: number | undefined,
  what: string,
): TransformStream<Uint8Array, Uint8Array> {
  const hasher = hasherFor(digest);
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (size !== undefined && seen > size) {
        controller.error(digestMismatch(`${what} (more than ${size} bytes)`, digest, "(oversized content)"));
        return;
      }
      hasher.update(chunk);
      controller.enqueue(chunk);
    },
    flush(controller) {
      const actual = hasher.digest();
      if (actual !== digest || (size !== undefined && seen !== size)) {
        controller.error(
          digestMismatch(
            what,
            digest,
            size !== undefined && seen !== size ? `${actual} (${seen} of ${size} bytes)` : actual,
          ),
        );
      }
    },
  });
}

/** A BlobReader over a stream, for reads in order (what pushBlob does). */
export function streamReader(stream: ReadableStream<Uint8Array>, size: number): BlobReader {
  const reader = stream.getReader();
  let buffered: Uint8Array[] = [];
  let bufferedBytes = 0;
  let position = 0;
  return {
    size,
    async read(offset, length) {
      if (offset !== position) throw new Error(`stream reader: read at ${offset}, expected ${position}`);
      while (bufferedBytes < length) {
        const { done, value } = await reader.read();
        if (done) break;
        buffered.push(value);
        bufferedBytes += value.byteLength;
      }
      const all = Buffer.concat(buffered);
      const out = all.subarray(0, Math.min(length, all.byteLength));
      const rest = all.subarray(out.byteLength);
      buffered = rest.byteLength ? [rest] : [];
      bufferedBytes = rest.byteLength;
      position += out.byteLength;
      if (position >= size) {
        // Drain to the end so the verifying stream checks the digest.
        for (;;) {
          const { done } = await reader.read();
          if (done) break;
        }
      }
      return new Uint8Array(out);
    },
  };
}

/** The response body, refused when it is (or says it is) larger than `max` bytes. */
export async function readLimited(res: Response, max: number, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    throw new PlatformError(
      "OCI_MANIFEST_TOO_LARGE",
      `The ${what} is ${declared} bytes; the limit is ${max}`,
      {
        category: "environment",
      },
    );
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.byteLength > max) {
    throw new PlatformError(
      "OCI_MANIFEST_TOO_LARGE",
      `The ${what} is ${bytes.byteLength} bytes; the limit is ${max}`,
      {
        category: "environment",
      },
    );
  }
  return bytes;
}
