/**
 * The worker the ledger benchmark runs (`wrangler dev test/bench/worker.ts`, wrangler.toml otherwise as is): the
 * production module, with the AccountLedger class swapped for a subclass that adds the two readings the benchmark
 * takes, and the two routes that take them. The benchmark hooks never sit on the production class.
 */
import { AccountLedger as ProductionLedger } from "../../src/durable-objects/account-ledger.ts";
import { createApi, type Ctx } from "../../src/app.ts";
import type { Env } from "../../src/env.ts";
import worker from "../../src/index.ts";

export * from "../../src/index.ts";

/** Bound as ACCOUNT_LEDGER under this name (a local export takes precedence over the star export above). */
export class AccountLedger extends ProductionLedger {
  /** The cost floor of a call to this object; it reads and writes nothing. */
  async noop(): Promise<number> {
    return 1;
  }

  /** Group commits made, and the operations they carried, since this object woke. */
  async commitStats(): Promise<{ commits: number; operations: number }> {
    return { ...this.parts.commit.stats };
  }
}

const ledger = (c: Ctx) => {
  const ns = c.env.ACCOUNT_LEDGER as unknown as DurableObjectNamespace<AccountLedger>;
  return ns.get(ns.idFromName(c.get("account").id));
};

const bench = createApi();
bench.route({
  method: "post",
  path: "/_bench/rpc",
  tag: "System",
  auth: "api_key",
  summary: "Benchmark: two empty calls to the ledger object, the RPC floor",
  responses: { 200: { description: "ok" } },
  async handler(c) {
    await ledger(c).noop();
    await ledger(c).noop();
    return c.json({ ok: true });
  },
});
bench.route({
  method: "get",
  path: "/_bench/ledger-stats",
  tag: "System",
  auth: "api_key",
  summary: "Benchmark: the caller's ledger object's group commits since it woke",
  responses: { 200: { description: "ok" } },
  handler: async (c) => c.json(await ledger(c).commitStats()),
});

const BENCH_PATHS = new Set(["/_bench/rpc", "/_bench/ledger-stats"]);

export default {
  ...worker,
  fetch(request, env, ctx) {
    const app = BENCH_PATHS.has(new URL(request.url).pathname) ? bench.app : null;
    return app ? app.fetch(request, env, ctx) : worker.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
