import {
  CreatedToken,
  EarningsView,
  PayoutRequest,
  PayoutResult,
  ProviderAgents,
  Revoked,
  RevenueShare,
} from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { requireAdmin } from "../../services/auth.ts";
import { providerFromKey } from "../../services/payments/earnings.ts";
import { providersService } from "../../services/payments/providers.ts";

const presented = (c: Ctx) =>
  c.req.header("x-api-key")?.trim() ?? c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];

function range(c: Ctx): { from: number; to: number } {
  const parse = (v: string | undefined, fallback: number) => {
    if (!v) return fallback;
    const t = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : Date.parse(v);
    if (Number.isNaN(t)) throw new ApiError("invalid_input", `not a date: ${v}`);
    return t;
  };
  const now = Date.now();
  const from = parse(c.req.query("from"), now - 30 * 86_400_000);
  // `to` is exclusive; a plain date covers that whole day
  const to =
    c.req.query("to") && /^\d{4}-\d{2}-\d{2}$/.test(c.req.query("to")!)
      ? parse(c.req.query("to"), now) + 86_400_000
      : parse(c.req.query("to"), now + 1);
  if (to <= from) throw new ApiError("invalid_input", "`to` must be after `from`");
  return { from, to };
}

export function registerProvider(api: Api) {
  api.op(
    {
      method: "get",
      path: "/v1/provider/earnings",
      tag: "Provider",
      auth: "api_key",
      summary:
        "Earnings between `from` and `to` (ISO dates; default the last 30 days): totals, per agent, model, GPU class and day (micro-USD). Provider key",
      responses: { 200: { description: "earnings", schema: EarningsView } },
      errors: [400, 401],
    },
    async (c: Ctx) => {
      const id = await providerFromKey(c.env, presented(c));
      const { from, to } = range(c);
      return reply(c, EarningsView, await providersService(c.env).earnings(id, from, to));
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/provider/agents",
      tag: "Provider",
      auth: "api_key",
      summary: "The provider's agents: state, jobs done, GPU-seconds, earnings. Provider key",
      responses: { 200: { description: "agents", schema: ProviderAgents } },
      errors: [401],
    },
    async (c: Ctx) => {
      const id = await providerFromKey(c.env, presented(c));
      return reply(c, ProviderAgents, { data: await providersService(c.env).agents(id) });
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/provider/statements/{month}",
      tag: "Provider",
      auth: "api_key",
      summary:
        "Monthly statement (YYYY-MM): every earning and payout, with totals; CSV with Accept: text/csv or ?format=csv. Provider key",
      responses: { 200: { description: "statement" } },
      errors: [400, 401],
    },
    async (c: Ctx) => {
      const id = await providerFromKey(c.env, presented(c));
      const month = c.req.param("month")!;
      const svc = providersService(c.env);
      if (c.req.query("format") === "csv" || c.req.header("accept")?.includes("text/csv")) {
        return c.body(await svc.statementCsv(id, month), 200, {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="statement-${month}.csv"`,
        });
      }
      return c.json(await svc.statement(id, month));
    },
  );

  api.op(
    {
      method: "post",
      path: "/admin/v1/providers/{id}/keys",
      tag: "Admin",
      auth: "admin",
      summary: "Issue a provider login key (earnings, statements); shown once",
      responses: { 201: { description: "created", schema: CreatedToken } },
      errors: [401, 404],
    },
    requireAdmin,
    async (c: Ctx) => {
      const k = await providersService(c.env).issueKey(c.req.param("id")!);
      return reply(c, CreatedToken, { id: k.id, token: k.key, prefix: k.prefix }, 201);
    },
  );

  api.op(
    {
      method: "delete",
      path: "/admin/v1/provider-keys/{id}",
      tag: "Admin",
      auth: "admin",
      summary: "Revoke a provider key",
      responses: { 200: { description: "revoked", schema: Revoked } },
      errors: [401, 404],
    },
    requireAdmin,
    async (c: Ctx) => {
      await providersService(c.env).revokeKey(c.req.param("id")!);
      return reply(c, Revoked, { id: c.req.param("id")!, revoked: true });
    },
  );

  api.op(
    {
      method: "put",
      path: "/admin/v1/providers/{id}/revenue-share",
      tag: "Admin",
      auth: "admin",
      summary: "Set a provider's revenue share in basis points (default 8000 = 80%); applies to settles from now on",
      body: RevenueShare,
      responses: { 200: { description: "set", schema: RevenueShare } },
      errors: [400, 401, 404],
    },
    requireAdmin,
    async (c: Ctx) => {
      const body = await jsonBody(c, RevenueShare);
      await providersService(c.env).setShare(c.req.param("id")!, body.revenue_share_bp);
      return reply(c, RevenueShare, body);
    },
  );

  api.op(
    {
      method: "post",
      path: "/admin/v1/providers/{id}/payouts",
      tag: "Admin",
      auth: "admin",
      summary:
        "Record a payout (micro-USD) as a debit against the provider's earnings, idempotent by idempotency_key; never more than the unpaid balance",
      body: PayoutRequest,
      responses: { 200: { description: "recorded (or replayed)", schema: PayoutResult } },
      errors: [400, 401, 402, 404, 409],
    },
    requireAdmin,
    async (c: Ctx) => {
      const body = await jsonBody(c, PayoutRequest);
      const r = await providersService(c.env).payout(
        c.req.param("id")!,
        body.idempotency_key,
        body.amount,
        body.reference ?? null,
      );
      return reply(c, PayoutResult, { op_id: r.op_id, amount: r.amount, balance: r.balance, replayed: r.replayed });
    },
  );
}
