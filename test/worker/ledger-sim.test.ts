import { typedLedger } from "./support/stubs.ts";
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AccountLedger } from "../../src/durable-objects/account-ledger.ts";
import { partsOf } from "./support/test-ledger.ts";
import { prng } from "./prng.ts";

// A seeded PRNG, so a failing seed replays exactly (SIM_SEED=<seed> npm run test:worker).
type ModelHold = {
  amount: number;
  rate: number;
  status: "pending" | "settled" | "voided" | "expired";
  charge: number;
  deadline: number;
};

const STEPS = 10_000;
const seeds = env.SIM_SEED ? [Number(env.SIM_SEED)] : [1, 2, 3];

describe("ledger simulation", () => {
  for (const seed of seeds) {
    it(`seed ${seed}: ${STEPS} random operations keep deposits == available + held + spent and agree with a model`, async () => {
      const stub = typedLedger(`sim-${seed}-${Date.now()}`);
      await runInDurableObject(stub, async (ledger: AccountLedger, state) => {
        const rnd = prng(seed);
        const int = (n: number) => Math.floor(rnd() * n);
        const acct = `sim-${seed}`;
        await ledger.setPlan(acct, "enterprise", { rpm: 1_000_000, in_flight: 100_000 });
        const model = {
          deposits: 0,
          spent: 0,
          held: 0,
          holds: new Map<string, ModelHold>(),
          ops: new Map<string, number>(),
        };
        let clock = Date.now();
        const ids: string[] = [];
        const trace: string[] = [];
        const outcomes = { accepted: 0, refused: 0 };
        let reloads = 0;

        const check = (step: number) => {
          const s = state.storage.sql
            .exec<{ deposits: number; spent: number; held: number }>("SELECT deposits, spent, held FROM state")
            .one();
          const available = s.deposits - s.spent - s.held;
          const ctx = `seed ${seed} step ${step}: ${trace.slice(-3).join(" | ")}`;
          expect(s.deposits, ctx).toBe(available + s.held + s.spent);
          expect(available, ctx).toBeGreaterThanOrEqual(0);
          expect(s, ctx).toEqual({ deposits: model.deposits, spent: model.spent, held: model.held });
          const pending = state.storage.sql
            .exec<{ n: number }>("SELECT COALESCE(SUM(amount), 0) AS n FROM holds WHERE status = 'pending'")
            .one().n;
          expect(pending, ctx).toBe(s.held);
        };

        for (let step = 0; step < STEPS; step++) {
          const r = rnd();
          if (r < 0.12) {
            // credit, sometimes replaying an earlier operation id
            const replay = model.ops.size > 0 && rnd() < 0.2;
            const opId = replay ? [...model.ops.keys()][int(model.ops.size)]! : `c${step}`;
            const amount = replay ? model.ops.get(opId)! : 1 + int(600_000);
            trace.push(`credit ${opId} ${amount}`);
            const res = await ledger.adjust(acct, "enterprise", "credit", opId, amount, "sim");
            expect(res.ok).toBe(true);
            if (!replay && !model.ops.has(opId)) {
              model.ops.set(opId, amount);
              model.deposits += amount;
            }
          } else if (r < 0.17) {
            const amount = 1 + int(3_000_000);
            trace.push(`debit ${amount}`);
            const res = await ledger.adjust(acct, "enterprise", "debit", `d${step}`, amount, "sim");
            const available = model.deposits - model.spent - model.held;
            expect(res.ok).toBe(available >= amount);
            if (res.ok) model.spent += amount;
          } else if (r < 0.47) {
            // reserve, often more than is available
            const id = `h${step}`;
            const rate = 1 + int(2000);
            const secs = 1 + int(600);
            const amount = rate * secs;
            const ttl = rnd() < 0.3 ? 1000 + int(10_000) : 3_600_000;
            trace.push(`reserve ${id} ${amount}`);
            const res = await ledger.admit(acct, "enterprise", {
              id,
              amount,
              pricing: { kind: "per_gpu_second", rates: { A40: rate } },
              ttl_ms: ttl,
              model_free: false,
            });
            const available = model.deposits - model.spent - model.held;
            expect(res.ok, `reserve ${amount} with ${available} available`).toBe(available >= amount);
            outcomes[res.ok ? "accepted" : "refused"]++;
            if (res.ok) {
              const deadline = state.storage.sql
                .exec<{ deadline: number }>("SELECT deadline FROM holds WHERE id = ?", id)
                .one().deadline;
              model.holds.set(id, { amount, rate, status: "pending", charge: 0, deadline });
              model.held += amount;
              ids.push(id);
            }
          } else if (r < 0.72 && ids.length) {
            // settle below, at or above the hold; sometimes a duplicate or a late settle after void/expiry
            const id = ids[int(ids.length)]!;
            const h = model.holds.get(id)!;
            const gpuMs = [
              0,
              int(h.amount / h.rate) * 1000,
              Math.floor((h.amount / h.rate) * 1000),
              (h.amount / h.rate) * 1000 * (1 + int(5)),
            ][int(4)]!;
            trace.push(`settle ${id} ${gpuMs}`);
            const res = await ledger.settle(id, Math.round(gpuMs), "A40");
            if (!("error" in res)) {
              if (h.status === "pending") {
                const charge = Math.min(h.amount, Math.ceil((h.rate * Math.round(gpuMs)) / 1000));
                expect(res).toMatchObject({ status: "settled", charge, first: true });
                h.status = "settled";
                h.charge = charge;
                model.held -= h.amount;
                model.spent += charge;
              } else {
                expect(res).toMatchObject({ status: h.status, charge: h.charge, first: false });
              }
            } else throw new Error(`settle error ${res.error}`);
          } else if (r < 0.9 && ids.length) {
            const id = ids[int(ids.length)]!;
            const h = model.holds.get(id)!;
            trace.push(`void ${id}`);
            const res = await ledger.void(id, "worker_lost");
            if ("error" in res) throw new Error("void not found");
            if (h.status === "pending") {
              expect(res).toMatchObject({ status: "voided", first: true });
              h.status = "voided";
              model.held -= h.amount;
            } else expect(res).toMatchObject({ status: h.status, first: false });
          } else if (r < 0.95) {
            // the alarm: time moves on and due holds expire; firing twice changes nothing
            clock += int(20_000);
            trace.push(`expire @${clock}`);
            partsOf(ledger).holds.expire(clock);
            partsOf(ledger).holds.expire(clock);
            for (const h of model.holds.values()) {
              if (h.status === "pending" && h.deadline <= clock) {
                h.status = "expired";
                model.held -= h.amount;
              }
            }
          } else {
            // bad amounts never change state
            const bad = [-1, 0.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY][int(5)]!;
            trace.push(`bad ${bad}`);
            const res = await ledger.adjust(
              acct,
              "enterprise",
              rnd() < 0.5 ? "credit" : "debit",
              `bad${step}`,
              bad,
              "sim",
            );
            expect(res.ok).toBe(false);
            const s2 = await ledger.settle(ids[0] ?? "none", bad, "A40");
            expect("error" in s2 && s2.error).toBeTruthy();
          }
          check(step);
          if (rnd() < 0.02) {
            // a restart: the object's memory is rebuilt from what is stored alone, and must come back the same
            const before = await ledger.summary(acct, "enterprise");
            partsOf(ledger).reload();
            expect(await ledger.summary(acct, "enterprise"), `seed ${seed} step ${step}: reload`).toEqual(before);
            reloads++;
          }
        }
        expect(reloads).toBeGreaterThan(50);
        // the walk exercised both sides of the credit check
        expect(outcomes.accepted).toBeGreaterThan(100);
        expect(outcomes.refused).toBeGreaterThan(100);
        // every movement is in the journal with its own operation id
        const journal = state.storage.sql.exec<{ n: number }>("SELECT COUNT(DISTINCT op_id) AS n FROM journal").one().n;
        expect(journal).toBe(state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM journal").one().n);
      });
    });
  }
});
