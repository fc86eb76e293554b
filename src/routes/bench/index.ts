import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import { MODEL_BY_SLUG } from "../../../schemas/index.ts";
import type { Api, AppEnv, Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { rateHeaders } from "../../services/billing.ts";
import { newId } from "../../services/crypto.ts";

/**
 * Benchmark routes exist outside production only (test/bench/ledger.ts drives them). The two that need the ledger's
 * benchmark hooks (the RPC floor, the group-commit counts) live in the benchmark's own entry, test/bench/worker.ts.
 */
const devOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.var.services.cfg.ENVIRONMENT === "production") throw new ApiError("not_found", "not found");
  await next();
};

const BENCH_MODEL = "background-removal";
const SETTLEMENT = { status: "COMPLETED", gpu_ms: 1500, gpu_class: "A40" } as const;

/** One hold on the benchmark model, as the inference route takes it. */
async function hold(c: Ctx) {
  const a = c.var.account;
  const id = newId("bench");
  const model = MODEL_BY_SLUG.get(BENCH_MODEL);
  if (!model) throw new ApiError("not_found", `no model ${BENCH_MODEL}`);
  return { id, adm: await c.var.services.billing.admit(a.id, a.plan, id, model, {}) };
}

const common = {
  tag: "System" as const,
  auth: "api_key" as const,
  use: [devOnly],
  responses: { 200: { description: "ok" } },
};

export function registerBench(api: Api) {
  api.route({
    ...common,
    method: "post",
    path: "/_bench/plain",
    summary: "Benchmark baseline: authenticates and answers (not in production)",
    handler: (c) => c.json({ ok: true }),
  });
  api.route({
    ...common,
    method: "post",
    path: "/_bench/ledger",
    summary: "Benchmark: the request path's ledger call (hold) and a settlement (not in production)",
    async handler(c) {
      const { id, adm } = await hold(c);
      const settled = await c.var.services.billing.closeHold(c.var.account.id, id, SETTLEMENT);
      for (const [k, v] of Object.entries(rateHeaders(adm.rate, settled?.available ?? adm.available))) c.header(k, v);
      return c.json({ ok: true, charge: settled?.charge ?? null });
    },
  });
  // The request path makes one ledger call per HTTP request: the hold on the inference request, the settlement on the
  // agent's completion call. These two routes reproduce that split, so the benchmark can drive pairs as two requests.
  api.route({
    ...common,
    method: "post",
    path: "/_bench/hold",
    summary: "Benchmark: the inference request's ledger call alone, a hold (not in production)",
    async handler(c) {
      const { id, adm } = await hold(c);
      for (const [k, v] of Object.entries(rateHeaders(adm.rate, adm.available))) c.header(k, v);
      return c.json({ id, held: adm.held });
    },
  });
  api.route({
    ...common,
    method: "post",
    path: "/_bench/settle",
    summary:
      "Benchmark: the completion call's ledger call alone, a settlement of a hold made by /_bench/hold (not in production)",
    body: z.object({ id: z.string().regex(/^bench_[A-Za-z0-9_-]{10,40}$/) }),
    async handler(c, { body }) {
      const settled = await c.var.services.billing.closeHold(c.var.account.id, body.id, SETTLEMENT);
      if (!settled) throw new ApiError("not_found", "no such hold");
      return c.json({ ok: true, charge: settled.charge });
    },
  });
}
