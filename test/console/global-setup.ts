/** Starts the platform (wrangler dev with fresh state on a free port) and one real gpu-agent for the browser tests. */
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { startAgent, startPlatform } from "../../scripts/platform.ts";
import { startStripeStandIn } from "../../scripts/stripe-standin.ts";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export default async function globalSetup() {
  // The console's CSS and islands are compiled into the Worker; rebuild them so the run serves what is on disk.
  execFileSync(process.execPath, [path.resolve(import.meta.dirname, "../../src/console/assets/build.mjs")], {
    stdio: "inherit",
  });
  const dir = mkdtempSync(path.join(tmpdir(), "console-e2e-"));
  const logDir = path.join(dir, "logs");
  const adminToken = randomBytes(24).toString("hex");
  const port = await freePort();
  // Payments go to the local Stripe stand-in, as on `npm start`: its checkout page takes the test cards.
  const stripe = await startStripeStandIn({
    port: await freePort(),
    webhookUrl: `http://127.0.0.1:${port}/v1/billing/stripe-webhook`,
  });
  const platform = await startPlatform({
    port,
    adminToken,
    persistDir: path.join(dir, "state"),
    logDir,
    vars: { STRIPE_API_BASE: stripe.url },
  });
  const agent = startAgent(
    platform.url,
    platform.demo.agent_token,
    ["--name", "console-agent"],
    path.join(logDir, "agent.log"),
  );
  try {
    await agent.waitFor(/"msg":"registered"/, 240_000);
  } catch (e) {
    agent.proc.kill("SIGKILL");
    await platform.stop();
    await stripe.stop();
    throw e;
  }
  // Workers inherit the environment, so the specs find the platform here.
  process.env.CONSOLE_BASE_URL = platform.url;
  process.env.CONSOLE_ADMIN_TOKEN = adminToken;
  process.env.CONSOLE_LOG_DIR = logDir;
  process.env.CONSOLE_PROVIDER_ID = platform.demo.provider_id;
  return async () => {
    if (agent.proc.exitCode === null) {
      agent.proc.kill("SIGTERM");
      await new Promise((r) => {
        agent.proc.once("exit", r);
        setTimeout(r, 10_000);
      });
    }
    await platform.stop();
    await stripe.stop();
  };
}
