import { typedLedger } from "./support/stubs.ts";
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AccountLedger } from "../../src/durable-objects/account-ledger.ts";
import { partsOf } from "./support/test-ledger.ts";
import { config } from "../../src/env.ts";
import { D1Catalog } from "../../src/services/catalog.ts";
import { RequestService } from "../../src/services/requests.ts";
import { broker } from "../../src/services/broker.ts";
import {
  PNG_1x1,
  brokerStub,
  call,
  newAccount,
  newAgent,
  resetBroker,
  syncCatalog,
  type FakeAgent,
} from "./helpers.ts";
import { FaultPlan, InjectedFault, type FaultMode } from "./support/faults.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

const ledgerStub = (account: string) => typedLedger(account);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function submitWith(plan: FaultPlan, accountId: string, idempotencyKey?: string) {
  const model = (await new D1Catalog(env).get("background-removal"))!;
  const svc = new RequestService(plan.wrap(env), config(env));
  return svc.submit(
    { id: accountId, plan: "pro", keyId: "k" },
    model,
    { image: PNG_1x1 },
    { mode: "async", base: "http://platform.test", ...(idempotencyKey ? { idempotencyKey } : {}) },
  );
}

type Hold = { id: string; status: string };
const holds = (account: string) =>
  runInDurableObject(ledgerStub(account), (_i, s) =>
    s.storage.sql.exec<Hold>("SELECT id, status FROM holds").toArray(),
  );
const journal = (account: string, id: string) =>
  runInDurableObject(ledgerStub(account), (_i, s) =>
    s.storage.sql
      .exec<{ kind: string }>("SELECT kind FROM journal WHERE hold_id = ? ORDER BY seq", id)
      .toArray()
      .map((r) => r.kind),
  );
const job = (id: string) =>
  runInDurableObject(
    brokerStub(),
    (_i, s) => s.storage.sql.exec<{ status: string }>("SELECT status FROM jobs WHERE id = ?", id).toArray()[0] ?? null,
  );
const rows = async (account: string) =>
  (
    await env.DB.prepare("SELECT id, status FROM requests WHERE account_id = ?")
      .bind(account)
      .all<{ id: string; status: string }>()
  ).results;

/** The request row an unkeyed submission's job carries reaches D1 through the events queue. */
async function projected(id: string) {
  for (let i = 0; i < 100; i++) {
    if (await env.DB.prepare("SELECT id FROM requests WHERE id = ?").bind(id).first()) return;
    await sleep(50);
  }
  expect.fail(`request ${id} was never projected into D1`);
}

/** Runs every queued job of the pool the way gpu-agent does. */
async function drain(agent: FakeAgent) {
  for (;;) {
    const jobs = await agent.lease();
    if (jobs.length === 0) return;
    for (const j of jobs) {
      await sleep(5);
      const r = await agent.post(`/agent/v1/jobs/${j.job_id}/complete`, {
        lease_id: j.lease_id,
        epoch: j.epoch,
        outputs: [],
        output_json: { ok: true },
        metrics: { gpu_ms: 1, load_ms: 0, gpu_class: "cpu" },
      });
      expect(r.status).toBe(200);
    }
  }
}

/**
 * After a fault, what the platform promises once the reconciler has run and the queue has drained: every hold,
 * request row and answered request has a job behind it, every job is terminal, each hold was closed exactly once,
 * nothing is held or in flight, and the money adds up.
 */
async function checkRecovered(account: string, answered: string | null, agent: FakeAgent, label = "") {
  const reconciled = await runInDurableObject(ledgerStub(account), (i: AccountLedger) =>
    partsOf(i).reconciler.run(Date.now() + 120_000),
  );
  // a hold still pending after the reconciler pays for a job that exists (a hold voided at once needs none)
  const pendingHolds = (await holds(account)).filter((h) => h.status === "pending").map((h) => h.id);
  await drain(agent);
  const hs = await holds(account);
  const ids = new Set([...pendingHolds, ...(await rows(account)).map((r) => r.id), ...(answered ? [answered] : [])]);
  for (const id of ids) {
    const j = await job(id);
    expect(
      j,
      `${label}: request ${id} has a job (hold: ${hs.some((h) => h.id === id)}, answered: ${answered === id})`,
    ).not.toBeNull();
    expect(["COMPLETED", "FAILED", "CANCELLED"]).toContain(j!.status);
  }
  for (const h of hs) {
    expect(h.status).not.toBe("pending");
    const kinds = await journal(account, h.id);
    expect(kinds[0]).toBe("hold");
    expect(kinds.slice(1).length, `hold ${h.id} closed once: ${kinds.join(",")}`).toBe(1);
  }
  // the request rows follow their jobs (through the events queue)
  for (let i = 0; i < 100; i++) {
    const rs = await rows(account);
    const pending = [];
    for (const r of rs) if (r.status !== (await job(r.id))!.status) pending.push(r.id);
    if (pending.length === 0) break;
    expect(i, `rows not projected: ${pending.join(",")}`).toBeLessThan(99);
    await sleep(50);
  }
  const s = await runInDurableObject(ledgerStub(account), (i: AccountLedger) => i.summary(account, "pro"));
  expect(s.held).toBe(0);
  expect(s.in_flight).toBe(0);
  expect(s.deposits).toBe(s.available + s.held + s.spent);
  return reconciled;
}

describe("a fault at any await of the submit path loses nothing", () => {
  it("every step × {crash before, crash after, throw}: held 0, in flight 0, every row and answer backed by a terminal job, each hold closed once", async () => {
    const clean = new FaultPlan();
    const acct0 = await newAccount("pro");
    await submitWith(clean, acct0.id, "key-clean");
    const steps = clean.calls;
    // the idempotency lookup, the hold, the keyed request row, the job (the small input travels inside it)
    expect(steps).toEqual(['d1:select "id", "pool",', "ledger.admit", 'd1:insert into "requests"', "broker.enqueue"]);
    const agent = await newAgent(["background-removal"]);
    await drain(agent);
    let scenarios = 0;
    for (let at = 0; at < steps.length; at++) {
      for (const mode of ["crash-before", "crash-after", "throw"] as FaultMode[]) {
        const { id: account } = await newAccount("pro");
        const plan = new FaultPlan(at, mode);
        let answered: string | null = null;
        try {
          answered = (await submitWith(plan, account, `key-${at}-${mode}`)).id;
        } catch (e) {
          // drizzle wraps a D1 failure in its own error; the fault is in the cause chain
          let cur: unknown = e;
          while (cur instanceof Error && !(cur instanceof InjectedFault)) cur = cur.cause;
          expect(cur, `${mode} at ${steps[at]}: ${String(e)}`).toBeInstanceOf(InjectedFault);
        }
        await checkRecovered(account, answered, agent, `${mode} at ${steps[at]}`);
        // a retry with the same key converges: the first request's job, or a fresh one when nothing was created
        const retry = await submitWith(new FaultPlan(), account, `key-${at}-${mode}`);
        if (answered) expect(retry.id).toBe(answered);
        await checkRecovered(account, retry.id, agent, `retry after ${mode} at ${steps[at]}`);
        scenarios++;
      }
    }
    expect(scenarios).toBe(12);
  });

  it("without an Idempotency-Key (no D1 on the path): every step × every fault loses nothing either", async () => {
    const clean = new FaultPlan();
    const acct0 = await newAccount("pro");
    await submitWith(clean, acct0.id);
    const steps = clean.calls;
    // the hold, the job (which carries the request row to the events queue, and the small input)
    expect(steps).toEqual(["ledger.admit", "broker.enqueue"]);
    const agent = await newAgent(["background-removal"]);
    await drain(agent);
    let scenarios = 0;
    for (let at = 0; at < steps.length; at++) {
      for (const mode of ["crash-before", "crash-after", "throw"] as FaultMode[]) {
        const { id: account } = await newAccount("pro");
        let answered: string | null = null;
        try {
          answered = (await submitWith(new FaultPlan(at, mode), account)).id;
        } catch (e) {
          expect(e, `${mode} at ${steps[at]}: ${String(e)}`).toBeInstanceOf(InjectedFault);
        }
        await checkRecovered(account, answered, agent, `${mode} at ${steps[at]}`);
        if (answered) await projected(answered);
        scenarios++;
      }
    }
    expect(scenarios).toBe(6);
  });

  it("a submission that resumes after the reconciler failed its job finds the job failed and is voided once", async () => {
    const { id: account } = await newAccount("pro");
    const agent = await newAgent(["background-removal"]);
    // crash right after the hold: no job (and so no row)
    const plan = new FaultPlan(0, "crash-after");
    await expect(submitWith(plan, account)).rejects.toBeInstanceOf(InjectedFault);
    const [h] = await holds(account);
    expect(h!.status).toBe("pending");
    const r = await runInDurableObject(ledgerStub(account), (i: AccountLedger) =>
      partsOf(i).reconciler.run(Date.now() + 120_000),
    );
    expect(r).toEqual({ confirmed: 0, voided: 1 });
    expect((await job(h!.id))!.status).toBe("FAILED");
    // a late enqueue of the same id finds the failed job; it does not queue it again
    const late = await broker(env, "public").enqueue({
      id: h!.id,
      account_id: account,
      model: "background-removal",
      runtime: "builtin",
      gpu_classes: ["cpu"],
      input: {},
      priority: 1,
      exec_timeout_ms: 1000,
      ttl_ms: 1000,
    });
    expect(late.status).toBe("FAILED");
    expect(await agent.lease()).toEqual([]);
    expect(await journal(account, h!.id)).toEqual(["hold", "void"]);
    // reconciling again changes nothing
    expect(
      await runInDurableObject(ledgerStub(account), (i: AccountLedger) =>
        partsOf(i).reconciler.run(Date.now() + 120_000),
      ),
    ).toEqual({ confirmed: 0, voided: 0 });
    const acct = (await (await call("/v1/account", { headers: { "x-api-key": (await newAccount()).key } })).json()) as {
      held: number;
    };
    expect(acct.held).toBe(0);
  });
});
