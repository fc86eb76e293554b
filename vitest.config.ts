import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { copyDocsAssets } from "./scripts/docs-assets.ts";

// wrangler.toml's [assets] directory must exist before the worker pool starts (a test fetches /docs's script).
copyDocsAssets();

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml" },
            // the production module plus test-only objects (test hooks never sit on production classes)
            main: "./test/worker/entry.ts",
            miniflare: {
              durableObjects: {
                MIGRATION_LAB: { className: "MigrationLab", useSQLite: true },
                // routes reach endpoints through ENDPOINT: the tests' subclass has a clock they move with `advance`
                ENDPOINT: { className: "TestEndpoint", useSQLite: true },
                TEST_LEDGER: { className: "TestLedger", useSQLite: true },
              },
              bindings: {
                ENVIRONMENT: "test",
                ADMIN_TOKEN: TEST_ADMIN_TOKEN,
                // Short deadlines so lease expiry and TTL can be driven within a test.
                LEASE_TTL_MS: "1000",
                JOB_TTL_S: "5",
                MAX_ATTEMPTS: "2",
                TEST_MIGRATIONS: await readD1Migrations("./src/db/migrations"),
                // replays one seed of the ledger simulation
                SIM_SEED: process.env.SIM_SEED ?? "",
              },
            },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          setupFiles: ["./test/worker/setup.ts"],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: "agent",
          // test/tools: the repository's own scripts (node, like the agent)
          include: ["test/agent/**/*.test.ts", "test/tools/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "client",
          include: ["clients/typescript/test/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 240_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
