import { createApi } from "./app.ts";
import type { Env } from "./env.ts";
import { handleEvents } from "./queues/events.ts";
import { handleWebhooks } from "./queues/webhooks.ts";
import { registerAdminAccounts } from "./routes/admin/accounts.ts";
import { registerAdminProviders } from "./routes/admin/providers.ts";
import { registerAgentFiles } from "./routes/agent/files.ts";
import { registerAgentFinish } from "./routes/agent/finish.ts";
import { registerAgentHeartbeat } from "./routes/agent/heartbeat.ts";
import { registerAgentLease } from "./routes/agent/lease.ts";
import { registerAgentRegister } from "./routes/agent/register.ts";
import { registerAsyncInference } from "./routes/inference/async.ts";
import { registerSyncInference } from "./routes/inference/sync.ts";
import { registerGetModel } from "./routes/models/get.ts";
import { registerCustomModels } from "./routes/custom-models/index.ts";
import { registerListModels } from "./routes/models/list.ts";
import { registerCancelRequest } from "./routes/requests/cancel.ts";
import { registerGetRequest } from "./routes/requests/get.ts";
import { registerGetOutput } from "./routes/requests/output.ts";
import { registerGetStatus } from "./routes/requests/status.ts";
import { registerRequestEvents } from "./routes/requests/events.ts";
import { registerSystem } from "./routes/system/index.ts";
import { registerDocs } from "./routes/docs/index.ts";
import { registerWebhooks } from "./routes/webhooks/index.ts";
import { registerBench } from "./routes/bench/index.ts";
import { registerAccount } from "./routes/account/get.ts";
import { registerUsage } from "./routes/account/usage.ts";
import { registerAdminLedger } from "./routes/admin/ledger.ts";
import { grantMonthlyCredits } from "./queues/grants.ts";
import { runRetention } from "./services/retention.ts";
import { mountConsole } from "./console/index.tsx";
import { registerWorkflowLifecycle } from "./routes/workflows/lifecycle.ts";
import { registerWorkflowRun } from "./routes/workflows/run.ts";
import { registerWorkflowTemplates } from "./routes/workflows/templates.ts";
import { registerWorkflowRuns } from "./routes/workflow-runs/index.ts";
import { registerBillingPay } from "./routes/billing/pay.ts";
import { registerBillingView } from "./routes/billing/view.ts";
import { registerProvider } from "./routes/provider/index.ts";
import { registerEndpointManagement } from "./routes/endpoints/manage.ts";
import { registerEndpointRun } from "./routes/endpoints/run.ts";
import { registerEndpointAgent } from "./routes/endpoints/agent.ts";

export { JobBroker } from "./durable-objects/job-broker.ts";
export { AccountLedger } from "./durable-objects/account-ledger.ts";
export { WorkflowRun } from "./durable-objects/workflow-run.ts";
export { Endpoint } from "./durable-objects/endpoint.ts";

/** The API with every route declared (and so its OpenAPI registry); `buildApp` adds the console. */
export function buildApi() {
  const api = createApi();
  registerSystem(api);
  registerDocs(api);
  // Specific paths before the catch-all model routes.
  registerListModels(api);
  registerAccount(api);
  registerUsage(api);
  registerWebhooks(api);
  registerGetModel(api);
  registerCustomModels(api);
  registerGetStatus(api);
  registerRequestEvents(api);
  registerGetRequest(api);
  registerCancelRequest(api);
  registerGetOutput(api);
  registerAdminAccounts(api);
  registerAdminProviders(api);
  registerAdminLedger(api);
  registerBillingView(api);
  registerBillingPay(api);
  registerProvider(api);
  registerAgentRegister(api);
  registerAgentLease(api);
  registerAgentHeartbeat(api);
  registerAgentFiles(api);
  registerAgentFinish(api);
  registerBench(api);
  registerWorkflowLifecycle(api);
  registerWorkflowRun(api);
  registerWorkflowTemplates(api);
  registerWorkflowRuns(api);
  registerEndpointManagement(api);
  registerEndpointRun(api);
  registerEndpointAgent(api);
  registerSyncInference(api);
  registerAsyncInference(api);
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
