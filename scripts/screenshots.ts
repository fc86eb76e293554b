/**
 * `npm run screenshots`: regenerates docs/screenshots/*.png (every console page at 1280×800 and at 390 px wide) by
 * running the console's page tests against a fresh local platform with a real agent, saving each page as it goes.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./platform.ts";

const dir = path.join(ROOT, "docs", "screenshots");
mkdirSync(dir, { recursive: true });
const r = spawnSync(
  path.join(ROOT, "node_modules", ".bin", "playwright"),
  ["test", "-c", "test/console/playwright.config.ts", "pages.spec.ts"],
  {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, SCREENSHOTS_DIR: dir, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" },
  },
);
process.exit(r.status ?? 1);
