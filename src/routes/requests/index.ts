import type { Api } from "../../app.ts";
import { registerGetStatus } from "./status.ts";
import { registerRequestEvents } from "./events.ts";
import { registerGetRequest } from "./get.ts";
import { registerCancelRequest } from "./cancel.ts";
import { registerGetOutput } from "./output.ts";

/** A request after submission: status, events, result, cancel, outputs. One file per operation. */
export function registerRequestRoutes(api: Api) {
  registerGetStatus(api);
  registerRequestEvents(api);
  registerGetRequest(api);
  registerCancelRequest(api);
  registerGetOutput(api);
}
