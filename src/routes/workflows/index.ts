import type { Api } from "../../app.ts";
import { registerWorkflowLifecycle } from "./lifecycle.ts";
import { registerWorkflowRun } from "./run.ts";
import { registerWorkflowTemplates } from "./templates.ts";

/** Workflows: lifecycle (drafts, versions, aliases), runs by slug, templates. One file per operation. */
export function registerWorkflowRoutes(api: Api) {
  registerWorkflowLifecycle(api);
  registerWorkflowRun(api);
  registerWorkflowTemplates(api);
}
