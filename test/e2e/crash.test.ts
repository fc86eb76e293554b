import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, startAgent, startPlatform, type AgentProcess, type Platform } from "../../scripts/platform.ts";

/**
 * kill -9 of the whole local runtime (wrangler dev and its workerd, one process group) during a burst of concurrent
 * submissions, then a restart on the same persisted state: every accepted request reaches a terminal state, every
 * hold is resolved once, and the usage history matches the jobs.
 */
const dir = mkdtempSync(path.join(tmpdir(), "edge-e2e-crash-"));
const ADMIN = "e2e-admin-token-0123456789";
const BURST = 150;
const CREDIT = 100_000_000;
// a 1×1 PNG: the test is about the submit path, so each job is as short as a real model run can be
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);
let platform: Platform;
let port = 0;
let agent: AgentProcess;
const account = { id: "", key: "" };

const freePort = () =>
  new Promise<number>((r) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const start = () =>
  startPlatform({
    port,
    adminToken: ADMIN,
    persistDir: path.join(dir, "state"),
    logDir: dir,
    vars: { LEASE_TTL_MS: "3000", JOB_TTL_S: "300" },
  });
const api = (p: string, init: RequestInit = {}) =>
  fetch(platform.url + p, { ...init, headers: { "x-api-key": account.key, ...(init.headers ?? {}) } });

type Ledger = {
  deposits: number;
  spent: number;
  held: number;
  available: number;
  in_flight: number;
  holds: { status: string; count: number; charged: number }[];
};
const ledger = async () =>
  (await admin<Ledger>(platform.url, ADMIN, "GET", `/admin/v1/accounts/${account.id}/ledger`)).body;

beforeAll(async () => {
  port = await freePort();
  platform = await start();
  const a = await admin<{ id: string }>(platform.url, ADMIN, "POST", "/admin/v1/accounts", {
    email: `crash-${Date.now()}@example.com`,
    plan: "enterprise",
  });
  account.id = a.body.id;
  account.key = (
    await admin<{ key: string }>(platform.url, ADMIN, "POST", `/admin/v1/accounts/${a.body.id}/keys`, {})
  ).body.key;
  expect(
    (
      await admin(platform.url, ADMIN, "PUT", `/admin/v1/accounts/${a.body.id}/plan`, {
        plan: "enterprise",
        limits: { rpm: 100_000, in_flight: 10_000 },
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await admin(platform.url, ADMIN, "POST", `/admin/v1/accounts/${a.body.id}/credits`, {
        amount: CREDIT,
        reason: "crash test",
        idempotency_key: "crash-credit",
      })
    ).status,
  ).toBe(200);
  agent = startAgent(
    platform.url,
    platform.demo.agent_token,
    ["--name", "crash-agent", "--models", "nsfw-detector", "--slots", "4", "--lease-wait-ms", "3000"],
    path.join(dir, "agent.log"),
  );
  await agent.waitFor(/"msg":"registered"/, 180_000);
});

afterAll(async () => {
  if (agent?.proc.exitCode === null) agent.proc.kill("SIGKILL");
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("crash: kill -9 of the runtime mid-burst", () => {
  it(`${BURST} concurrent submissions, kill -9, restart: held 0, in flight 0, money conserved, usage matches the jobs`, async () => {
    let answered = 0;
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      process.kill(-platform.wrangler.pid!, "SIGKILL");
    };
    // launched 10 ms apart, so that when the runtime dies some are answered, some mid-path and some not yet sent
    const submissions = Array.from({ length: BURST }, async (_, i) => {
      await sleep(i * 10);
      try {
        const r = await api("/v2/nsfw-detector", {
          method: "POST",
          headers: { "content-type": "image/png" },
          body: PNG,
        });
        const body = (await r.json()) as { request_id?: string };
        return { status: r.status, id: body.request_id ?? null };
      } catch {
        return { status: 0, id: null };
      } finally {
        if (++answered >= 20) kill();
      }
    });
    // other traffic at the same time (catalog and account reads), as on a busy runtime: the submit path interleaves more
    const noise = Array.from({ length: 300 }, (_, i) =>
      sleep(i * 5).then(() =>
        api(i % 2 ? "/v1/models" : "/v1/account")
          .then((r) => r.arrayBuffer())
          .catch(() => null),
      ),
    );
    const results = await Promise.all(submissions);
    await Promise.all(noise);
    kill();
    const accepted = results.filter((r) => r.status === 202).map((r) => r.id!);
    const cut = results.filter((r) => r.status === 0).length;
    expect(
      results.every((r) => r.status === 202 || r.status === 0),
      JSON.stringify(results.filter((r) => r.status !== 202 && r.status !== 0)),
    ).toBe(true);
    expect(accepted.length).toBeGreaterThan(0);
    expect(cut).toBeGreaterThan(0);

    await sleep(500);
    const t0 = Date.now();
    platform = await start();
    // the same agent process carries on against the restarted runtime
    let l = await ledger();
    let open = accepted.length;
    while (Date.now() - t0 < 300_000) {
      l = await ledger();
      const statuses = await Promise.all(
        accepted.map(
          async (id) => ((await (await api(`/v2/requests/${id}/status`)).json()) as { status: string }).status,
        ),
      );
      open = statuses.filter((s) => s === "QUEUED" || s === "PROCESSING").length;
      if (l.held === 0 && l.in_flight === 0 && open === 0) break;
      await sleep(2000);
    }
    const settledMs = Date.now() - t0;
    expect({ held: l.held, in_flight: l.in_flight, open }).toEqual({ held: 0, in_flight: 0, open: 0 });
    expect(l.deposits).toBe(CREDIT);
    expect(l.deposits).toBe(l.available + l.held + l.spent);

    // usage history: every row is backed by a job in the same terminal state, and every accepted request is listed
    type Row = { request_id: string; status: string; cost: number | null };
    const history = async () => {
      const rows: Row[] = [];
      for (let cursor: string | null = null, first = true; first || cursor; first = false) {
        const page = (await (await api(`/v1/usage?limit=100${cursor ? `&cursor=${cursor}` : ""}`)).json()) as {
          data: Row[];
          next_cursor: string | null;
        };
        rows.push(...page.data);
        cursor = page.next_cursor;
      }
      return rows;
    };
    // the history is a projection written by the events queue: it follows within seconds
    let usage = await history();
    // (a request's row itself comes from its broker's outbox, so the wait also covers rows not there yet: those of
    // the accepted requests, and those of requests whose 202 the kill cut off but whose job and hold exist)
    const settledHolds = l.holds.find((h) => h.status === "settled")?.count ?? 0;
    const missing = (rows: Row[]) =>
      accepted.some((id) => !rows.some((u) => u.request_id === id)) ||
      rows.filter((u) => u.status === "COMPLETED").length < settledHolds;
    while (
      Date.now() - t0 < 330_000 &&
      (missing(usage) || usage.some((u) => u.status === "QUEUED" || u.status === "PROCESSING"))
    ) {
      await sleep(2000);
      usage = await history();
    }
    const projectedMs = Date.now() - t0;
    for (const id of accepted)
      expect(
        usage.some((u) => u.request_id === id),
        id,
      ).toBe(true);
    let settled = 0;
    for (const u of usage) {
      const s = (await (await api(`/v2/requests/${u.request_id}/status`)).json()) as { status: string };
      expect(s.status, u.request_id).toBe(u.status);
      expect(["COMPLETED", "FAILED"]).toContain(u.status);
      if (u.status === "COMPLETED") settled++;
    }
    const byStatus = Object.fromEntries(l.holds.map((h) => [h.status, h]));
    expect(byStatus.pending).toBeUndefined();
    expect(byStatus.settled?.count ?? 0).toBe(settled);
    expect(byStatus.settled?.charged ?? 0).toBe(l.spent);
    expect(usage.filter((u) => u.status === "COMPLETED").reduce((a, u) => a + (u.cost ?? 0), 0)).toBe(l.spent);
    const holdsTotal = l.holds.reduce((a, h) => a + h.count, 0);
    expect(holdsTotal).toBeGreaterThanOrEqual(usage.length);
    console.log(
      JSON.stringify({
        burst: BURST,
        accepted: accepted.length,
        cut_off: cut,
        usage_rows: usage.length,
        holds: l.holds,
        completed: settled,
        spent: l.spent,
        settled_ms_after_restart: settledMs,
        projected_ms_after_restart: projectedMs,
      }),
    );
  }, 480_000);
});
