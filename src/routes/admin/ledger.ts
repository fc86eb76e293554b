import { AdminLedgerOp, AdminLedgerView, ChangePlan, Adjustment, PlanChanged } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";

export function registerAdminLedger(api: Api) {
  for (const kind of ["credit", "debit"] as const) {
    api.route({
      method: "post",
      path: `/admin/v1/accounts/{id}/${kind}s`,
      tag: "Admin",
      auth: "admin",
      summary: `${kind === "credit" ? "Credit" : "Debit"} an account (micro-USD), idempotent by idempotency_key`,
      body: AdminLedgerOp,
      responses: { 200: { description: "applied (or replayed)", schema: Adjustment } },
      errors: [400, 401, 402, 404, 409],
      async handler(c, { params, body }) {
        const r = await c.var.services.admin.adjust(params.id, kind, body);
        c.header("x-remaining-credits", String(r.available));
        return reply(c, Adjustment, {
          op_id: r.op_id,
          kind: r.kind,
          amount: r.amount,
          available: r.available,
          replayed: r.replayed,
        });
      },
    });
  }

  api.route({
    method: "get",
    path: "/admin/v1/accounts/{id}/ledger",
    tag: "Admin",
    auth: "admin",
    summary:
      "An account's balances and its holds by status (pending, settled, voided, expired) with the amounts charged",
    responses: { 200: { description: "the ledger", schema: AdminLedgerView } },
    errors: [401, 404],
    handler: async (c, { params }) => reply(c, AdminLedgerView, await c.var.services.admin.ledgerView(params.id)),
  });

  api.route({
    method: "put",
    path: "/admin/v1/accounts/{id}/plan",
    tag: "Admin",
    auth: "admin",
    summary: "Change an account's plan, with optional per-account limit overrides; grants this month's plan credit",
    body: ChangePlan,
    responses: { 200: { description: "changed", schema: PlanChanged } },
    errors: [400, 401, 404],
    async handler(c, { params, body }) {
      const { id, limits } = await c.var.services.admin.changePlan(params.id, body);
      return reply(c, PlanChanged, { id, plan: body.plan, limits });
    },
  });
}
