import type { MiddlewareHandler } from "hono";
import { MODEL_BY_SLUG } from "../../../schemas/index.ts";
import type { Api, AppEnv, Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { requireApiKey } from "../../services/auth.ts";
import { billing, ledger, rateHeaders } from "../../services/billing.ts";
import { newId } from "../../services/crypto.ts";
import { quote } from "../../services/pricing.ts";

/** Benchmark routes exist outside production only (test/bench/ledger.ts drives them). */
const devOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get("cfg").ENVIRONMENT === "production") throw new ApiError("not_found", "not found");
  await next();
};

export function registerBench(api: Api) {
  api.op(
    { method: "post", path: "/_bench/plain", tag: "System", auth: "api_key", summary: "Benchmark baseline: authenticates and answers (not in production)", responses: { 200: { description: "ok" } } },
    devOnly, requireApiKey,
    async (c: Ctx) => c.json({ ok: true }),
  );
  api.op(
    { method: "post", path: "/_bench/rpc", tag: "System", auth: "api_key", summary: "Benchmark: two empty calls to the ledger object, the RPC floor (not in production)", responses: { 200: { description: "ok" } } },
    devOnly, requireApiKey,
    async (c: Ctx) => {
      const a = c.get("account");
      await ledger(c.env, a.id).noop();
      await ledger(c.env, a.id).noop();
      return c.json({ ok: true });
    },
  );
  api.op(
    { method: "post", path: "/_bench/ledger", tag: "System", auth: "api_key", summary: "Benchmark: the request path's ledger call (hold) and a settlement (not in production)", responses: { 200: { description: "ok" } } },
    devOnly, requireApiKey,
    async (c: Ctx) => {
      const a = c.get("account");
      const b = billing(c.env);
      const id = newId("bench");
      const adm = await b.admit(a.id, a.plan, id, MODEL_BY_SLUG.get("background-removal")!, {});
      const settled = await b.resolve(a.id, id, { status: "COMPLETED", gpu_ms: 1500, gpu_class: "A40" });
      for (const [k, v] of Object.entries(rateHeaders(adm.rate, settled?.available ?? adm.available))) c.header(k, v);
      return c.json({ ok: true, charge: settled?.charge ?? null });
    },
  );
  api.op(
    { method: "post", path: "/_bench/ledger-unbatched", tag: "System", auth: "api_key", summary: "Benchmark: the same hold and settlement as two direct calls to the ledger object, without batching (not in production)", responses: { 200: { description: "ok" } } },
    devOnly, requireApiKey,
    async (c: Ctx) => {
      const a = c.get("account");
      const id = newId("bench");
      const { hold, pricing } = quote(MODEL_BY_SLUG.get("background-removal")!, {});
      const adm = await ledger(c.env, a.id).admit(a.id, a.plan, { id, amount: hold, pricing, ttl_ms: 600_000, model_free: false });
      if (!adm.ok) throw new ApiError(adm.code, adm.message);
      const settled = await ledger(c.env, a.id).settle(id, 1500, "A40");
      return c.json({ ok: true, charge: "error" in settled ? null : settled.charge });
    },
  );
}
