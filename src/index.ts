import { createApi } from "./app.ts";
import { registerRoutes } from "./routes/index.ts";
import type { Env } from "./env.ts";
import { handleEvents } from "./queues/events.ts";
import { handleWebhooks } from "./queues/webhooks.ts";
import { grantMonthlyCredits } from "./queues/grants.ts";
import { runRetention } from "./services/retention.ts";
import { mountConsole } from "./console/index.tsx";

export { JobBroker } from "./durable-objects/job-broker.ts";
export { AccountLedger } from "./durable-objects/account-ledger.ts";
export { WorkflowRun } from "./durable-objects/workflow-run.ts";
export { Endpoint } from "./durable-objects/endpoint.ts";

/** The API with every route declared (and so its OpenAPI registry); `buildApp` adds the console. */
export function buildApi() {
  const api = createApi();
  registerRoutes(api);
  return api;
}

export function buildApp() {
  const api = buildApi();
  mountConsole(api.app);
  return api.app;
}

const app = buildApp();

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue.endsWith("-webhooks")) return handleWebhooks(batch, env);
    if (batch.queue.endsWith("-events")) return handleEvents(batch, env);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(grantMonthlyCredits(env).then(() => undefined));
    ctx.waitUntil(runRetention(env).then(() => undefined));
  },
} satisfies ExportedHandler<Env>;
