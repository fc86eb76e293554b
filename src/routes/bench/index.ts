import type { MiddlewareHandler } from "hono";
import { MODEL_BY_SLUG } from "../../../schemas/index.ts";
import { z } from "zod";
import { jsonBody, type Api, type AppEnv, type Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { requireApiKey } from "../../services/auth.ts";
import { billing, rateHeaders } from "../../services/billing.ts";
import { newId } from "../../services/crypto.ts";

/**
 * Benchmark routes exist outside production only (test/bench/ledger.ts drives them). The two that need the ledger's
 * benchmark hooks (the RPC floor, the group-commit counts) live in the benchmark's own entry, test/bench/worker.ts.
 */
const devOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get("cfg").ENVIRONMENT === "production") throw new ApiError("not_found", "not found");
  await next();
};

export function registerBench(api: Api) {
  api.op(
    {
      method: "post",
      path: "/_bench/plain",
      tag: "System",
      auth: "api_key",
      summary: "Benchmark baseline: authenticates and answers (not in production)",
      responses: { 200: { description: "ok" } },
    },
    devOnly,
    requireApiKey,
    async (c: Ctx) => c.json({ ok: true }),
  );
  api.op(
    {
      method: "post",
      path: "/_bench/ledger",
      tag: "System",
      auth: "api_key",
      summary: "Benchmark: the request path's ledger call (hold) and a settlement (not in production)",
      responses: { 200: { description: "ok" } },
    },
    devOnly,
    requireApiKey,
    async (c: Ctx) => {
      const a = c.get("account");
      const b = billing(c.env);
      const id = newId("bench");
      const adm = await b.admit(a.id, a.plan, id, MODEL_BY_SLUG.get("background-removal")!, {});
      const settled = await b.closeHold(a.id, id, { status: "COMPLETED", gpu_ms: 1500, gpu_class: "A40" });
      for (const [k, v] of Object.entries(rateHeaders(adm.rate, settled?.available ?? adm.available))) c.header(k, v);
      return c.json({ ok: true, charge: settled?.charge ?? null });
    },
  );
  // The request path makes one ledger call per HTTP request: the hold on the inference request, the settlement on the
  // agent's completion call. These two routes reproduce that split, so the benchmark can drive pairs as two requests.
  api.op(
    {
      method: "post",
      path: "/_bench/hold",
      tag: "System",
      auth: "api_key",
      summary: "Benchmark: the inference request's ledger call alone, a hold (not in production)",
      responses: { 200: { description: "ok" } },
    },
    devOnly,
    requireApiKey,
    async (c: Ctx) => {
      const a = c.get("account");
      const id = newId("bench");
      const adm = await billing(c.env).admit(a.id, a.plan, id, MODEL_BY_SLUG.get("background-removal")!, {});
      for (const [k, v] of Object.entries(rateHeaders(adm.rate, adm.available))) c.header(k, v);
      return c.json({ id, held: adm.held });
    },
  );
  api.op(
    {
      method: "post",
      path: "/_bench/settle",
      tag: "System",
      auth: "api_key",
      summary:
        "Benchmark: the completion call's ledger call alone, a settlement of a hold made by /_bench/hold (not in production)",
      responses: { 200: { description: "ok" } },
    },
    devOnly,
    requireApiKey,
    async (c: Ctx) => {
      const a = c.get("account");
      const { id } = await jsonBody(c, z.object({ id: z.string().regex(/^bench_[A-Za-z0-9_-]{10,40}$/) }));
      const settled = await billing(c.env).closeHold(a.id, id, { status: "COMPLETED", gpu_ms: 1500, gpu_class: "A40" });
      if (!settled) throw new ApiError("not_found", "no such hold");
      return c.json({ ok: true, charge: settled.charge });
    },
  );
}
