// The itg project's globalSetup: starts ONE kube-apiserver (+ etcd) for the whole run when any selected test
// file is named apiserver* or lies in an apiserver* folder (test/conformance/apiserver-*.itg.test.ts,
// test/conformance/apiserver/…), so those files share its ~25 s start.
// Test files reach it with useApiServer() from ./apiserver.ts.
import type { TestProject } from "vitest/node";
import { requirePeers } from "../peers/index.ts";
import { startApiServer } from "./apiserver.ts";

/** Whether the run includes an apiserver* test file (the CLI's file filters applied, as vitest will). */
async function wanted(project: TestProject): Promise<boolean> {
  // vitest keeps the CLI filters on an internal field; when it is missing every file counts (start it).
  const pattern = (project.vitest as unknown as { filenamePattern?: unknown }).filenamePattern;
  const filters = Array.isArray(pattern) ? pattern.filter((f): f is string => typeof f === "string") : [];
  const { testFiles } = await project.globTestFiles(filters);
  return testFiles.some((f) => /\/apiserver[^/]*(\/|$)/.test(f));
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (!(await wanted(project))) {
    project.provide("kubeApiServer", null);
    return undefined;
  }
  const peers = requirePeers("kube-apiserver", "etcd");
  if (!peers.ok) {
    project.provide("kubeApiServer", { unavailable: peers.reason });
    return undefined;
  }
  const started = Date.now();
  const server = await startApiServer();
  console.log(`kube-apiserver ready at ${server.url} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  project.provide("kubeApiServer", { url: server.url, token: server.token, ca: server.ca });
  return () => server.stop();
}
