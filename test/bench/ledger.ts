/**
 * Ledger benchmark, one run, one account, on wrangler dev (workerd), at one concurrency:
 *  - the ledger path: each HTTP request makes one ledger call, as the request path does (the hold on the inference
 *    request, POST /_bench/hold; the settlement on the completion call, POST /_bench/settle); every client loop makes
 *    a hold, then settles it, so pairs/s = settles/s;
 *  - the plain route of the same app with the same API-key authentication (POST /_bench/plain);
 *  - stricter, for reference: both ledger calls inside one HTTP request (POST /_bench/ledger);
 *  - for scale: /health (no authentication) and two empty calls to the ledger object (POST /_bench/rpc).
 * The platform runs test/bench/worker.ts: the production worker whose ledger class adds the benchmark's two hooks
 * (the empty call and the group-commit counts, GET /_bench/ledger-stats), so they stay off the production class.
 * Throughput is measured in interleaved ABBA rounds (plain, ledger, ledger, plain; 2 s each) and the ratio is the
 * median over rounds, because this machine's CPU speed drifts over seconds; a single long run of each is noisier.
 * Added latency: p50/p99 of one hold request minus one plain request, measured one at a time.
 * Target: the ledger path reaches at least 80% of the plain route's throughput.
 *
 * wrangler dev's local observability collector (X_LOCAL_OBSERVABILITY, on by default) streams a trace of every
 * invocation, each Durable Object call included, to a collector worker in the same process. That is a dev-server
 * feature, not part of the app, and it taxes a route by its number of calls, so it is off by default here;
 * `--observability` keeps wrangler's default and the result records which was used.
 * Usage: npm run bench:ledger [-- --rounds 8 --slice 2 --concurrency 32 --observability]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, admin, startPlatform } from "../../scripts/platform.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const ROUNDS = arg("rounds", 8);
const SLICE_S = arg("slice", 2);
const CONCURRENCY = arg("concurrency", 32);
const SAMPLES = arg("samples", 400);
const OBSERVABILITY = process.argv.includes("--observability");
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const median = (xs: number[]) => pct(xs, 50);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

if (!OBSERVABILITY) process.env.X_LOCAL_OBSERVABILITY = "false";
const dir = mkdtempSync(path.join(tmpdir(), "edge-bench-ledger-"));
const token = "bench-admin-token-0123456789";
const platform = await startPlatform({
  port: 19_900 + Math.floor(Math.random() * 90),
  adminToken: token,
  persistDir: path.join(dir, "state"),
  logDir: dir,
  entry: "test/bench/worker.ts",
});

try {
  const acct = await admin<{ id: string }>(platform.url, token, "POST", "/admin/v1/accounts", {
    email: "bench@example.com",
    plan: "enterprise",
  });
  const key = (await admin<{ key: string }>(platform.url, token, "POST", `/admin/v1/accounts/${acct.body.id}/keys`, {}))
    .body.key;
  await admin(platform.url, token, "PUT", `/admin/v1/accounts/${acct.body.id}/plan`, {
    plan: "enterprise",
    limits: { rpm: 1_000_000, in_flight: 100_000 },
  });
  const credit = 1_000_000_000_000;
  await admin(platform.url, token, "POST", `/admin/v1/accounts/${acct.body.id}/credits`, {
    amount: credit,
    reason: "bench",
    idempotency_key: "bench",
  });
  const auth = { "x-api-key": key };
  const post = (p: string, body?: unknown) =>
    fetch(platform.url + p, {
      method: "POST",
      headers: body === undefined ? auth : { ...auth, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const ok = async (r: Response) => {
    const text = await r.text();
    if (!r.ok) throw new Error(`${r.url} answered ${r.status}: ${text}`);
    return text;
  };

  /** One client loop's step; returns how many HTTP requests it made. */
  const steps: Record<string, () => Promise<number>> = {
    health: async () => (await ok(await fetch(`${platform.url}/health`)), 1),
    plain: async () => (await ok(await post("/_bench/plain")), 1),
    rpc: async () => (await ok(await post("/_bench/rpc")), 1),
    pair_in_one_request: async () => (await ok(await post("/_bench/ledger")), 1),
    ledger_path: async () => {
      const { id } = JSON.parse(await ok(await post("/_bench/hold"))) as { id: string };
      await ok(await post("/_bench/settle", { id }));
      return 2;
    },
  };
  let pairs = 0;

  /** HTTP requests per second over one slice, CONCURRENCY client loops. */
  async function rate(name: string, seconds = SLICE_S): Promise<number> {
    let n = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          const made = await steps[name]!();
          n += made;
        }
      }),
    );
    if (name === "ledger_path") pairs += n / 2;
    if (name === "pair_in_one_request") pairs += n;
    return n / seconds;
  }

  async function abba(a: string, b: string): Promise<{ a: number[]; b: number[]; ratios: number[] }> {
    const out = { a: [] as number[], b: [] as number[], ratios: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      const a1 = await rate(a),
        b1 = await rate(b),
        b2 = await rate(b),
        a2 = await rate(a);
      out.a.push((a1 + a2) / 2);
      out.b.push((b1 + b2) / 2);
      out.ratios.push((b1 + b2) / (a1 + a2));
      console.error(
        `${b} vs ${a}, round ${i + 1}/${ROUNDS}: ${r1((a1 + a2) / 2)} vs ${r1((b1 + b2) / 2)} requests/s, ratio ${r3((b1 + b2) / (a1 + a2))}`,
      );
    }
    return out;
  }

  async function latencies(p: string): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t = performance.now();
      await ok(await post(p));
      out.push(performance.now() - t);
    }
    return out;
  }

  // warm-up: JIT, the ledger object, connection pools
  for (const name of Object.keys(steps)) await rate(name, 1);
  const ledgerPath = await abba("plain", "ledger_path");
  const pairInOne = await abba("plain", "pair_in_one_request");
  const health = await rate("health", SLICE_S * 2);
  const rpc = await rate("rpc", SLICE_S * 2);
  const plainLat = await latencies("/_bench/plain");
  const holdLat = await latencies("/_bench/hold");
  const rpcLat = await latencies("/_bench/rpc");
  // the holds made by the latency samples are left pending on purpose; everything else was settled
  const summary = (await (await fetch(`${platform.url}/v1/account`, { headers: auth })).json()) as {
    held: number;
    spent: number;
    available: number;
    total_requests: number;
    in_flight: number;
  };
  const commits = (await (await fetch(`${platform.url}/_bench/ledger-stats`, { headers: auth })).json()) as {
    commits: number;
    operations: number;
  };

  const plainAll = [...ledgerPath.a, ...pairInOne.a];
  const result = {
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    slice_s: SLICE_S,
    wrangler_local_observability: OBSERVABILITY,
    target: "ledger_path_vs_plain >= 0.8",
    ledger_path_vs_plain: r3(median(ledgerPath.ratios)),
    ledger_path_vs_plain_by_round: ledgerPath.ratios.map(r3),
    ledger_path_vs_plain_ratio_of_means: r3(mean(ledgerPath.b) / mean(ledgerPath.a)),
    pair_in_one_request_vs_plain: r3(median(pairInOne.ratios)),
    pair_in_one_request_vs_plain_ratio_of_means: r3(mean(pairInOne.b) / mean(pairInOne.a)),
    throughput_rps: {
      plain_authenticated: r1(mean(plainAll)),
      ledger_path_requests: r1(mean(ledgerPath.b)),
      ledger_path_pairs: r1(mean(ledgerPath.b) / 2),
      pair_in_one_request: r1(mean(pairInOne.b)),
      health: r1(health),
      two_empty_ledger_calls: r1(rpc),
    },
    latency_ms_sequential: {
      plain_p50: r1(pct(plainLat, 50)),
      plain_p99: r1(pct(plainLat, 99)),
      hold_p50: r1(pct(holdLat, 50)),
      hold_p99: r1(pct(holdLat, 99)),
      added_p50: r1(pct(holdLat, 50) - pct(plainLat, 50)),
      added_p99: r1(pct(holdLat, 99) - pct(plainLat, 99)),
      two_empty_calls_added_p50: r1(pct(rpcLat, 50) - pct(plainLat, 50)),
    },
    group_commit: {
      commits: commits.commits,
      operations: commits.operations,
      operations_per_commit: r1(commits.operations / Math.max(1, commits.commits)),
    },
    ledger_after: {
      pairs_settled: Math.round(pairs),
      pending_holds: summary.in_flight,
      conserved: summary.available + summary.held + summary.spent === credit,
      held: summary.held,
      spent: summary.spent,
    },
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(path.join(ROOT, "test", "bench", "results"), { recursive: true });
  writeFileSync(path.join(ROOT, "test", "bench", "results", "ledger.json"), JSON.stringify(result, null, 2));
} finally {
  await platform.stop();
  rmSync(dir, { recursive: true, force: true });
}
