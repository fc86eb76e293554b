import { existsSync } from "node:fs";
import { defineConfig, devices } from "@playwright/test";

/**
 * Browser tests of the console: Debian's Chromium (apt: chromium, chromium-headless-shell; Playwright's own browser
 * download cannot run offline), against a platform started by global-setup.ts on a free port with a real agent.
 */
const executablePath =
  process.env.CHROMIUM_PATH ??
  ["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"].find((p) => existsSync(p)) ??
  "/usr/bin/chromium";

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  globalSetup: "./global-setup.ts",
  // One platform, one agent, a 2-core machine: one browser at a time.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  retries: 0,
  reporter: process.env.CI ? [["list"]] : [["list"]],
  outputDir: "../../.wrangler/playwright",
  use: {
    ...devices["Desktop Chrome"],
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath,
      // Root in CI (no sandbox), no GPU, and no calls home: this machine has no network but the package registries.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
      ],
    },
    trace: "off",
  },
});
