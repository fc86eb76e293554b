import type { Api } from "../../app.ts";
import { registerAgentRegister } from "./register.ts";
import { registerAgentLease } from "./lease.ts";
import { registerAgentHeartbeat } from "./heartbeat.ts";
import { registerAgentFiles } from "./files.ts";
import { registerAgentFinish } from "./finish.ts";

/** The agent protocol (agent token): register, lease, heartbeat, inputs and outputs, complete/fail/release. One file per operation. */
export function registerAgentRoutes(api: Api) {
  registerAgentRegister(api);
  registerAgentLease(api);
  registerAgentHeartbeat(api);
  registerAgentFiles(api);
  registerAgentFinish(api);
}
