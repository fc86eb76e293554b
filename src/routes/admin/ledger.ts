import { eq } from "drizzle-orm";
import {
  AdminLedgerOp,
  AdminLedgerView,
  ChangePlan,
  Adjustment,
  PlanChanged,
  type Plan,
} from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { db } from "../../db/client.ts";
import { accounts } from "../../db/schema.ts";
import { ApiError, notFound } from "../../errors.ts";
import { requireAdmin } from "../../services/auth.ts";
import { billing, currentPeriod, ledger } from "../../services/billing.ts";
import { payments } from "../../services/payments/index.ts";
import { invalidate } from "../../services/edge-cache.ts";
import { planCacheKey } from "../../services/auth.ts";

async function account(c: Ctx) {
  const row = await db(c.env)
    .select({ id: accounts.id, plan: accounts.plan })
    .from(accounts)
    .where(eq(accounts.id, c.req.param("id")!))
    .get();
  if (!row) throw notFound("account");
  return { id: row.id, plan: row.plan as Plan };
}

function adjust(kind: "credit" | "debit") {
  return async (c: Ctx) => {
    const body = await jsonBody(c, AdminLedgerOp);
    const a = await account(c);
    const r = await billing(c.env).adjust(a.id, a.plan, kind, body.idempotency_key, body.amount, body.reason);
    if (!r.ok) throw new ApiError(r.code, r.message);
    if (kind === "debit" && !r.replayed) await payments(c.env).afterDebit(a.id);
    c.header("x-remaining-credits", String(r.available));
    return reply(c, Adjustment, {
      op_id: r.op_id,
      kind: r.kind,
      amount: r.amount,
      available: r.available,
      replayed: r.replayed,
    });
  };
}

export function registerAdminLedger(api: Api) {
  const common = {
    tag: "Admin" as const,
    auth: "admin" as const,
    body: AdminLedgerOp,
    responses: { 200: { description: "applied (or replayed)", schema: Adjustment } },
    errors: [400, 401, 402, 404, 409],
  };
  api.op(
    {
      method: "post",
      path: "/admin/v1/accounts/{id}/credits",
      summary: "Credit an account (micro-USD), idempotent by idempotency_key",
      ...common,
    },
    requireAdmin,
    adjust("credit"),
  );
  api.op(
    {
      method: "post",
      path: "/admin/v1/accounts/{id}/debits",
      summary: "Debit an account (micro-USD), idempotent by idempotency_key",
      ...common,
    },
    requireAdmin,
    adjust("debit"),
  );

  api.op(
    {
      method: "get",
      path: "/admin/v1/accounts/{id}/ledger",
      tag: "Admin",
      auth: "admin",
      summary:
        "An account's balances and its holds by status (pending, settled, voided, expired) with the amounts charged",
      responses: { 200: { description: "the ledger", schema: AdminLedgerView } },
      errors: [401, 404],
    },
    requireAdmin,
    async (c: Ctx) => {
      const a = await account(c);
      const s = await billing(c.env).summary(a.id, a.plan);
      const holds = await ledger(c.env, a.id).holdCounts();
      return reply(c, AdminLedgerView, {
        account_id: a.id,
        deposits: s.deposits,
        spent: s.spent,
        held: s.held,
        available: s.available,
        in_flight: s.in_flight,
        holds,
      });
    },
  );

  api.op(
    {
      method: "put",
      path: "/admin/v1/accounts/{id}/plan",
      tag: "Admin",
      auth: "admin",
      summary: "Change an account's plan, with optional per-account limit overrides; grants this month's plan credit",
      body: ChangePlan,
      responses: { 200: { description: "changed", schema: PlanChanged } },
      errors: [400, 401, 404],
    },
    requireAdmin,
    async (c: Ctx) => {
      const body = await jsonBody(c, ChangePlan);
      const a = await account(c);
      // The ledger first: it enforces the limits. D1 follows; a retry converges both.
      const limits = await ledger(c.env, a.id).setPlan(a.id, body.plan, body.limits ?? {});
      await db(c.env).update(accounts).set({ plan: body.plan }).where(eq(accounts.id, a.id));
      await invalidate(planCacheKey(a.id));
      await ledger(c.env, a.id).grantMonthly(a.id, body.plan, currentPeriod());
      return reply(c, PlanChanged, { id: a.id, plan: body.plan, limits });
    },
  );
}
