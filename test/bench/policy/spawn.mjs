import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";

/**
 * Runs a command with stdout going straight to a file (so the measured time is the tool's, not a pipe's).
 * Exit 0 and 1 ("violations found") are results; anything else throws with the tool's stderr.
 */
export async function timedToFile(cmd, args, outFile, opts = {}) {
  const fd = openSync(outFile, "w");
  const t0 = performance.now();
  const { code, stderr } = await new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", fd, "pipe"], ...opts });
    let err = "";
    p.stderr.on("data", (d) => {
      err += d;
    });
    p.on("error", reject);
    p.on("close", (c) => resolve({ code: c, stderr: err }));
  });
  const ms = performance.now() - t0;
  closeSync(fd);
  if (code !== 0 && code !== 1) throw new Error(`${cmd} exited ${code}: ${stderr.slice(0, 2000)}`);
  return ms;
}
