import {
  CreatedToken,
  EarningsQuery,
  EarningsView,
  PayoutRequest,
  PayoutResult,
  ProviderAgents,
  Revoked,
  RevenueShare,
  StatementQuery,
} from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";
import { ApiError } from "../../errors.ts";

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `from` defaults to 30 days ago and `to` to now; `to` is exclusive, so a plain date covers that whole day. */
function range(q: EarningsQuery): { from: number; to: number } {
  const parse = (v: string | undefined, fallback: number) => {
    if (!v) return fallback;
    const t = DATE.test(v) ? Date.parse(`${v}T00:00:00Z`) : Date.parse(v);
    if (Number.isNaN(t)) throw new ApiError("invalid_input", `not a date: ${v}`);
    return t;
  };
  const now = Date.now();
  const from = parse(q.from, now - 30 * 86_400_000);
  const to = q.to && DATE.test(q.to) ? parse(q.to, now) + 86_400_000 : parse(q.to, now + 1);
  if (to <= from) throw new ApiError("invalid_input", "`to` must be after `from`");
  return { from, to };
}

export function registerProvider(api: Api) {
  api.route({
    method: "get",
    path: "/v1/provider/earnings",
    tag: "Provider",
    auth: "provider",
    summary:
      "Earnings between `from` and `to` (ISO dates; default the last 30 days): totals, per agent, model, GPU class and day (micro-USD). Provider key",
    query: EarningsQuery,
    responses: { 200: { description: "earnings", schema: EarningsView } },
    errors: [400, 401],
    async handler(c, { query }) {
      const { from, to } = range(query);
      return reply(c, EarningsView, await c.var.services.providers.earnings(c.var.provider.id, from, to));
    },
  });

  api.route({
    method: "get",
    path: "/v1/provider/agents",
    tag: "Provider",
    auth: "provider",
    summary: "The provider's agents: state, jobs done, GPU-seconds, earnings. Provider key",
    responses: { 200: { description: "agents", schema: ProviderAgents } },
    errors: [401],
    handler: async (c) => reply(c, ProviderAgents, { data: await c.var.services.providers.agents(c.var.provider.id) }),
  });

  api.route({
    method: "get",
    path: "/v1/provider/statements/{month}",
    tag: "Provider",
    auth: "provider",
    summary:
      "Monthly statement (YYYY-MM): every earning and payout, with totals; CSV with Accept: text/csv or ?format=csv. Provider key",
    query: StatementQuery,
    responses: { 200: { description: "statement" } },
    errors: [400, 401],
    async handler(c, { params, query }) {
      const { providers } = c.var.services;
      if (query.format === "csv" || c.req.header("accept")?.includes("text/csv")) {
        return c.body(await providers.statementCsv(c.var.provider.id, params.month), 200, {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="statement-${params.month}.csv"`,
        });
      }
      return c.json(await providers.statement(c.var.provider.id, params.month));
    },
  });

  api.route({
    method: "post",
    path: "/admin/v1/providers/{id}/keys",
    tag: "Admin",
    auth: "admin",
    summary: "Issue a provider login key (earnings, statements); shown once",
    responses: { 201: { description: "created", schema: CreatedToken } },
    errors: [401, 404],
    async handler(c, { params }) {
      const k = await c.var.services.providers.issueKey(params.id);
      return reply(c, CreatedToken, { id: k.id, token: k.key, prefix: k.prefix }, 201);
    },
  });

  api.route({
    method: "delete",
    path: "/admin/v1/provider-keys/{id}",
    tag: "Admin",
    auth: "admin",
    summary: "Revoke a provider key",
    responses: { 200: { description: "revoked", schema: Revoked } },
    errors: [401, 404],
    async handler(c, { params }) {
      await c.var.services.providers.revokeKey(params.id);
      return reply(c, Revoked, { id: params.id, revoked: true });
    },
  });

  api.route({
    method: "put",
    path: "/admin/v1/providers/{id}/revenue-share",
    tag: "Admin",
    auth: "admin",
    summary: "Set a provider's revenue share in basis points (default 8000 = 80%); applies to settles from now on",
    body: RevenueShare,
    responses: { 200: { description: "set", schema: RevenueShare } },
    errors: [400, 401, 404],
    async handler(c, { params, body }) {
      await c.var.services.providers.setShare(params.id, body.revenue_share_bp);
      return reply(c, RevenueShare, body);
    },
  });

  api.route({
    method: "post",
    path: "/admin/v1/providers/{id}/payouts",
    tag: "Admin",
    auth: "admin",
    summary:
      "Record a payout (micro-USD) as a debit against the provider's earnings, idempotent by idempotency_key; never more than the unpaid balance",
    body: PayoutRequest,
    responses: { 200: { description: "recorded (or replayed)", schema: PayoutResult } },
    errors: [400, 401, 402, 404, 409],
    async handler(c, { params, body }) {
      const r = await c.var.services.providers.payout(
        params.id,
        body.idempotency_key,
        body.amount,
        body.reference ?? null,
      );
      return reply(c, PayoutResult, { op_id: r.op_id, amount: r.amount, balance: r.balance, replayed: r.replayed });
    },
  });
}
