/** `npm start`: the platform on the embedded local runtime, a local agent, and a demo account. */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { ROOT, startAgent, startPlatform } from "./platform.ts";
import { startStripeStandIn } from "./stripe-standin.ts";

const port = Number(process.env.PORT ?? 8787);
const persistDir = path.join(ROOT, ".wrangler", "state");
const logDir = path.join(ROOT, ".wrangler", "logs");
mkdirSync(persistDir, { recursive: true });
const tokenFile = path.join(persistDir, "admin-token");
const adminToken =
  process.env.ADMIN_TOKEN ??
  (existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : randomBytes(24).toString("hex"));
if (!process.env.ADMIN_TOKEN) writeFileSync(tokenFile, adminToken, { mode: 0o600 });

// Payments: real Stripe when both keys are set, otherwise the local stand-in (test cards, signed webhooks).
const realStripe = Boolean(process.env.STRIPE_SECRET_KEY && process.env.STRIPE_WEBHOOK_SECRET);
const stripePort = Number(process.env.STRIPE_STANDIN_PORT ?? 12111);
const stripe = realStripe
  ? null
  : await startStripeStandIn({
      port: stripePort,
      webhookUrl: `http://127.0.0.1:${port}/v1/billing/stripe-webhook`,
      stateFile: path.join(persistDir, "stripe-standin.json"),
    });
const stripeVars: Record<string, string> = realStripe
  ? { STRIPE_SECRET_KEY: process.env.STRIPE_SECRET_KEY!, STRIPE_WEBHOOK_SECRET: process.env.STRIPE_WEBHOOK_SECRET! }
  : { STRIPE_API_BASE: stripe!.url };

console.log(`starting the platform on http://localhost:${port} (logs in .wrangler/logs/) ...`);
const platform = await startPlatform({ port, adminToken, persistDir, logDir, vars: stripeVars });
// Console sign-in links are printed by the Worker in development; echo them here so they are one click away.
let pending = "";
platform.wrangler.stdout!.on("data", (d: Buffer) => {
  pending += d.toString();
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  for (const l of lines)
    if (l.includes("[magic-link]")) console.log(`\nconsole sign-in link: ${l.slice(l.indexOf("[magic-link]") + 13)}`);
});
console.log("platform up; starting a local gpu-agent (loads ISNet and NSFW models, ~20 s on 2 cores) ...");
const agent = startAgent(
  platform.url,
  platform.demo.agent_token,
  ["--name", "local-agent"],
  path.join(logDir, "agent.log"),
);

let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  console.log("\nstopping: draining the agent, then the platform ...");
  if (agent.proc.exitCode === null) {
    agent.proc.kill("SIGTERM");
    await new Promise((r) => {
      agent.proc.once("exit", r);
      setTimeout(r, 35_000);
    });
  }
  await platform.stop();
  await stripe?.stop();
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
agent.proc.on("exit", (code) => {
  if (!stopping) {
    console.error(`gpu-agent exited with ${code}; see .wrangler/logs/agent.log`);
    void shutdown(1);
  }
});

try {
  await agent.waitFor(/"msg":"registered"/, 180_000);
} catch (e) {
  console.error(String(e));
  await shutdown(1);
}
const key = platform.demo.api_key;
const base = `http://localhost:${port}`;
console.log(`
ready.
  API         ${base}   (docs: ${base}/docs, OpenAPI: ${base}/openapi.json)
  console     ${base}/console   (sign in with any email: the link is printed here and in .wrangler/logs/wrangler.log)
  demo key    ${key}
  admin token ${adminToken}

Remove the background of a photo (returns a PNG with a transparent background):

  curl -X POST ${base}/v1/background-removal -H "x-api-key: ${key}" -H "content-type: image/jpeg" --data-binary @examples/photo.jpg -o out.png

Async, then status and result:

  curl -X POST ${base}/v2/nsfw-detector -H "x-api-key: ${key}" -H "content-type: application/json" -d "{\\"image\\":\\"$(base64 -w0 examples/photo.jpg)\\"}"
  curl ${base}/v2/requests/REQUEST_ID/status -H "x-api-key: ${key}"

Top up $10 (${realStripe ? "Stripe" : `local Stripe stand-in on ${stripe!.url}: pay with card 4242 4242 4242 4242`}): open the url it returns

  curl -X POST ${base}/v1/billing/checkout -H "x-api-key: ${key}" -H "content-type: application/json" -d '{"amount":1000}'
  curl ${base}/v1/billing -H "x-api-key: ${key}"

Ctrl-C stops the agent (it drains) and the platform.`);
