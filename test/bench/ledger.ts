/**
 * Ledger benchmark, one run, one account, on wrangler dev (workerd):
 *  - hold+settle pairs per second through the Worker (POST /_bench/ledger: the request path's ledger call, then a
 *    settlement) against a plain route of the same app with the same API-key authentication (POST /_bench/plain),
 *    and against /health (no authentication), all at the same concurrency;
 *  - the ledger call's added latency: p50/p99 of the ledger route minus the plain route, measured one at a time;
 *  - for scale, the same app making two empty calls to the ledger object (POST /_bench/rpc): the RPC floor.
 * Target: the ledger route reaches at least 80% of the plain route's throughput.
 * Usage: npm run bench:ledger [-- --seconds 8 --concurrency 32]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, admin, startPlatform } from "../../scripts/platform.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SECONDS = arg("seconds", 8);
const CONCURRENCY = arg("concurrency", 32);
const SAMPLES = arg("samples", 400);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const r1 = (x: number) => Math.round(x * 10) / 10;

const dir = mkdtempSync(path.join(tmpdir(), "edge-bench-ledger-"));
const token = "bench-admin-token-0123456789";
const platform = await startPlatform({ port: 19_900 + Math.floor(Math.random() * 90), adminToken: token, persistDir: path.join(dir, "state"), logDir: dir });

try {
  const acct = await admin<{ id: string }>(platform.url, token, "POST", "/admin/v1/accounts", { email: "bench@example.com", plan: "enterprise" });
  const key = (await admin<{ key: string }>(platform.url, token, "POST", `/admin/v1/accounts/${acct.body.id}/keys`, {})).body.key;
  await admin(platform.url, token, "PUT", `/admin/v1/accounts/${acct.body.id}/plan`, { plan: "enterprise", limits: { rpm: 1_000_000, in_flight: 100_000 } });
  await admin(platform.url, token, "POST", `/admin/v1/accounts/${acct.body.id}/credits`, { amount: 1_000_000_000_000, reason: "bench", idempotency_key: "bench" });

  const routes = {
    health: () => fetch(`${platform.url}/health`),
    plain: () => fetch(`${platform.url}/_bench/plain`, { method: "POST", headers: { "x-api-key": key } }),
    ledger: () => fetch(`${platform.url}/_bench/ledger`, { method: "POST", headers: { "x-api-key": key } }),
    rpc: () => fetch(`${platform.url}/_bench/rpc`, { method: "POST", headers: { "x-api-key": key } }),
  };

  async function throughput(fn: () => Promise<Response>): Promise<number> {
    let done = 0;
    let failed = 0;
    const end = performance.now() + SECONDS * 1000;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const r = await fn();
        await r.arrayBuffer();
        if (r.ok) done++;
        else failed++;
      }
    }));
    if (failed) throw new Error(`${failed} requests failed`);
    return done / SECONDS;
  }

  async function latencies(fn: () => Promise<Response>): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t = performance.now();
      const r = await fn();
      await r.arrayBuffer();
      out.push(performance.now() - t);
    }
    return out;
  }

  // warm-up, then the routes interleaved twice so drift hits all of them alike
  for (const fn of Object.values(routes)) for (let i = 0; i < 50; i++) await (await fn()).arrayBuffer();
  const rps: Record<string, number[]> = { health: [], plain: [], ledger: [], rpc: [] };
  for (let round = 0; round < 2; round++) for (const [name, fn] of Object.entries(routes)) rps[name]!.push(await throughput(fn));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const plainLat = await latencies(routes.plain);
  const ledgerLat = await latencies(routes.ledger);
  const rpcLat = await latencies(routes.rpc);

  const summary = await (await fetch(`${platform.url}/v1/account`, { headers: { "x-api-key": key } })).json() as { held: number; total_requests: number };
  const result = {
    concurrency: CONCURRENCY,
    seconds_per_run: SECONDS,
    throughput_rps: { health: r1(mean(rps.health!)), plain_authenticated: r1(mean(rps.plain!)), ledger_hold_settle: r1(mean(rps.ledger!)), two_empty_ledger_rpcs: r1(mean(rps.rpc!)) },
    ledger_vs_plain: Math.round((mean(rps.ledger!) / mean(rps.plain!)) * 1000) / 1000,
    ledger_vs_health: Math.round((mean(rps.ledger!) / mean(rps.health!)) * 1000) / 1000,
    latency_ms_sequential: {
      plain_p50: r1(pct(plainLat, 50)), plain_p99: r1(pct(plainLat, 99)),
      ledger_p50: r1(pct(ledgerLat, 50)), ledger_p99: r1(pct(ledgerLat, 99)),
      added_p50: r1(pct(ledgerLat, 50) - pct(plainLat, 50)), added_p99: r1(pct(ledgerLat, 99) - pct(plainLat, 99)),
      two_empty_rpcs_added_p50: r1(pct(rpcLat, 50) - pct(plainLat, 50)),
    },
    ledger_after: { held: summary.held, holds_made: summary.total_requests },
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(path.join(ROOT, "test", "bench", "results"), { recursive: true });
  writeFileSync(path.join(ROOT, "test", "bench", "results", "ledger.json"), JSON.stringify(result, null, 2));
} finally {
  await platform.stop();
  rmSync(dir, { recursive: true, force: true });
}
