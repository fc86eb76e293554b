import type { Api } from "../../app.ts";
import { registerAdminAccounts } from "./accounts.ts";
import { registerAdminProviders } from "./providers.ts";
import { registerAdminLedger } from "./ledger.ts";

/** Operator calls (admin token): accounts and keys, providers and agent tokens, ledger adjustments. One file per operation. */
export function registerAdminRoutes(api: Api) {
  registerAdminAccounts(api);
  registerAdminProviders(api);
  registerAdminLedger(api);
}
