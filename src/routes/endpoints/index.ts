import type { Api } from "../../app.ts";
import { registerEndpointManagement } from "./manage.ts";
import { registerEndpointRun } from "./run.ts";
import { registerEndpointAgent } from "./agent.ts";

/** Dedicated endpoints: manage, run, and the dedicated agents' ready report. One file per operation. */
export function registerEndpointRoutes(api: Api) {
  registerEndpointManagement(api);
  registerEndpointRun(api);
  registerEndpointAgent(api);
}
