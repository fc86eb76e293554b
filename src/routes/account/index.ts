import type { Api } from "../../app.ts";
import { registerAccount } from "./get.ts";
import { registerUsage } from "./usage.ts";

/** The caller's account: balance and plan, and the usage history. One file per operation. */
export function registerAccountRoutes(api: Api) {
  registerAccount(api);
  registerUsage(api);
}
