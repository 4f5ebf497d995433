import { expect, it } from "vitest";

// Node 24 is pinned as the `node@24` dev dependency; this proves the npm scripts really run on it
// and not on whatever node happens to be on the PATH.
it("runs on Node 24", () => {
  console.log(`node ${process.version} (${process.execPath})`);
  const major = Number(/^v(\d+)\./.exec(process.version)?.[1]);
  expect(major).toBe(24);
});
