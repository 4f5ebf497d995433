import { defineConfig } from "vitest/config";

// Two projects: fast unit tests beside the code, and integration/e2e tests under test/ that
// spawn bundled actions and real peer tools (named *.itg.test.ts, run with one worker).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "packages/*/src/**/*.test.ts",
            "actions/*/src/**/*.test.ts",
            "test/docs/**/*.test.ts",
            "test/structure/**/*.test.ts",
          ],
          exclude: ["**/*.itg.test.ts", "**/node_modules/**"],
        },
      },
      {
        test: {
          name: "itg",
          include: ["test/**/*.itg.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          // One real kube-apiserver shared by the apiserver* test files (started only when one is selected).
          globalSetup: ["test/harness/apiserver-global-setup.ts"],
        },
      },
    ],
  },
});
