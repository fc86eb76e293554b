import { AccountView, UserCredits } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";
import { accountView } from "../../services/billing.ts";

export function registerAccount(api: Api) {
  api.route({
    method: "get",
    path: "/v1/account",
    tag: "Account",
    auth: "api_key",
    summary: "Plan, balance, held and available credit (micro-USD), requests today and in total, daily quota",
    responses: { 200: { description: "account", schema: AccountView } },
    errors: [401],
    async handler(c) {
      const a = c.var.account;
      const view = accountView(await c.var.services.billing.summary(a.id, a.plan));
      c.header("x-remaining-credits", String(view.available));
      return reply(c, AccountView, view);
    },
  });

  api.route({
    method: "get",
    path: "/v1/get-user-credits",
    tag: "Account",
    auth: "api_key",
    summary: "Remaining credits in Segmind's shape (USD)",
    responses: { 200: { description: "credits", schema: UserCredits } },
    errors: [401],
    async handler(c) {
      const a = c.var.account;
      const s = await c.var.services.billing.summary(a.id, a.plan);
      c.header("x-remaining-credits", String(s.available));
      // USD for display only; the ledger's integers are the truth.
      return reply(c, UserCredits, {
        remaining_credits: s.available / 1e6,
        used_credits: s.spent / 1e6,
        held_credits: s.held / 1e6,
        plan: s.plan,
      });
    },
  });
}
