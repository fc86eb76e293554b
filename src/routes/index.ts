import type { Api } from "../app.ts";
import { registerAccountRoutes } from "./account/index.ts";
import { registerAdminRoutes } from "./admin/index.ts";
import { registerAgentRoutes } from "./agent/index.ts";
import { registerBench } from "./bench/index.ts";
import { registerBillingRoutes } from "./billing/index.ts";
import { registerCustomModels } from "./custom-models/index.ts";
import { registerDocs } from "./docs/index.ts";
import { registerEndpointRoutes } from "./endpoints/index.ts";
import { registerInferenceRoutes } from "./inference/index.ts";
import { registerModelRoutes } from "./models/index.ts";
import { registerProvider } from "./provider/index.ts";
import { registerRequestRoutes } from "./requests/index.ts";
import { registerSystem } from "./system/index.ts";
import { registerWebhooks } from "./webhooks/index.ts";
import { registerWorkflowRuns } from "./workflow-runs/index.ts";
import { registerWorkflowRoutes } from "./workflows/index.ts";

/**
 * Every API route, one module per resource (a folder under src/routes, one file per operation). Order matters only
 * for the inference routes: `/v1/{model}` and `/v2/{model}` match any slug, so they are mounted after everything else.
 */
export function registerRoutes(api: Api): void {
  registerSystem(api);
  registerDocs(api);
  registerModelRoutes(api);
  registerCustomModels(api);
  registerAccountRoutes(api);
  registerWebhooks(api);
  registerRequestRoutes(api);
  registerAdminRoutes(api);
  registerBillingRoutes(api);
  registerProvider(api);
  registerAgentRoutes(api);
  registerBench(api);
  registerWorkflowRoutes(api);
  registerWorkflowRuns(api);
  registerEndpointRoutes(api);
  registerInferenceRoutes(api);
}
