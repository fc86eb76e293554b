import { typedLedger } from "./support/stubs.ts";
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AccountLedger } from "../../src/durable-objects/account-ledger.ts";
import { partsOf } from "./support/test-ledger.ts";
import { prng } from "./prng.ts";
import type { SplitRow } from "../../src/durable-objects/account-ledger-money-sql.ts";
import type { StripeEffect } from "../../src/durable-objects/account-ledger-money.ts";

/**
 * The ledger simulation (ledger-sim.test.ts) with the money that comes from outside and goes to providers: card
 * credits whose events repeat and race, plan grants, cumulative refunds arriving out of order, disputes larger than
 * the balance, settles split into provider earnings delivered at least once (dropped, duplicated, late), moderation
 * paid by the platform, and injected faults: a transaction that throws after writing, and restarts from storage.
 * After every operation: deposits == available + held + spent, available >= 0, and the ledger agrees with a model;
 * every 500 operations and at the end: Σ charges == Σ provider earnings + platform revenue, to the micro-USD.
 */

const STEPS = 25_000;
const seeds = env.SIM_SEED ? [Number(env.SIM_SEED)] : [11, 12, 13, 14];
const RATE = 997;
const SHARES = [8000, 7500, 10_000, 0, 8333];

describe("ledger simulation with payments and earnings", () => {
  for (const seed of seeds) {
    // each commit waits for SQLite to be durable, so the wall time is mostly fsync (a minute a seed here), not CPU
    it(`seed ${seed}: ${STEPS} operations with injected faults keep conservation and Σ charges == Σ earnings + platform revenue`, {
      timeout: 400_000,
    }, async () => {
      const acct = `simpay-${seed}-${Date.now()}`;
      const payer = typedLedger(acct);
      await runInDurableObject(payer, async (ledger: AccountLedger, state) => {
        {
          // the provider's ledger is another object: reached by RPC from inside this one, as in production
          const provider = typedLedger(`provider:${acct}`);
          const rnd = prng(seed);
          const int = (n: number) => Math.floor(rnd() * n);
          const pick = <T>(xs: T[]) => xs[int(xs.length)]!;
          const limits = { rpm: 1_000_000, in_flight: 100_000 };
          await ledger.setPlan(acct, "enterprise", limits);
          const m = { deposits: 0, spent: 0, held: 0, receivable: 0, charges: 0, earn: 0, fee: 0, delivered: 0 };
          const holds = new Map<string, { amount: number; status: string }>();
          const holdIds: string[] = [];
          const eventIds: string[] = [];
          const events = new Set<string>();
          const credited = new Set<string>();
          const refunded = new Map<string, number>();
          const pendingDelivery: SplitRow[] = [];
          const trace: string[] = [];
          const counts = { faults: 0, reloads: 0, dropped: 0, effects: 0, settles: 0 };
          const core = partsOf(ledger).money.core;
          // the fault: the Stripe event's transaction throws after all its writes, so SQLite rolls them back
          const tx = core.tx;
          let armed = false;
          core.tx = <T>(fn: () => T): T =>
            tx(() => {
              const out = fn();
              if (armed) throw new Error("injected fault at the end of the transaction");
              return out;
            });

          const avail = () => m.deposits - m.spent - m.held;
          const take = (amount: number) => Math.min(amount, avail());
          const recover = () => {
            const t = take(m.receivable);
            m.spent += t;
            m.receivable -= t;
          };

          // The model of one Stripe effect (see StripeEffects.apply).
          const model = (e: StripeEffect) => {
            if (e.type === "credit" && !credited.has(e.object_id)) {
              credited.add(e.object_id);
              m.deposits += e.amount;
              recover();
            } else if (e.type === "grant" && !credited.has(e.object_id)) {
              credited.add(e.object_id);
              m.deposits += 39_000_000;
              recover();
            } else if (e.type === "refund") {
              const delta = e.amount_refunded - (refunded.get(e.charge_id) ?? 0);
              if (delta > 0) {
                const t = take(delta);
                m.spent += t;
                m.receivable += delta - t;
                refunded.set(e.charge_id, e.amount_refunded);
              }
            } else if (e.type === "dispute" && !credited.has(e.object_id)) {
              credited.add(e.object_id);
              const t = take(e.amount);
              m.spent += t;
              m.receivable += e.amount - t;
            }
          };

          const check = async (step: number, full: boolean) => {
            const ctx = `seed ${seed} step ${step}: ${trace.slice(-3).join(" | ")}`;
            const s = state.storage.sql
              .exec<{ deposits: number; spent: number; held: number }>("SELECT deposits, spent, held FROM state")
              .one();
            const available = s.deposits - s.spent - s.held;
            expect(s.deposits, ctx).toBe(available + s.held + s.spent);
            expect(available, ctx).toBeGreaterThanOrEqual(0);
            expect(s, ctx).toEqual({ deposits: m.deposits, spent: m.spent, held: m.held });
            if (!full) return;
            const settled = state.storage.sql
              .exec<{ n: number }>("SELECT COALESCE(SUM(amount), 0) AS n FROM journal WHERE kind = 'settle'")
              .one().n;
            const sp = state.storage.sql
              .exec<{
                c: number;
                e: number;
                f: number;
              }>(
                "SELECT COALESCE(SUM(charge), 0) AS c, COALESCE(SUM(earn), 0) AS e, COALESCE(SUM(fee), 0) AS f FROM splits",
              )
              .one();
            const earned = (await provider.earningsReport(0, Number.MAX_SAFE_INTEGER)).totals.earned;
            expect(settled, `charges ${ctx}`).toBe(m.charges);
            expect(sp, ctx).toEqual({ c: m.charges, e: m.earn, f: m.fee });
            // the invariant: every micro-USD charged is a provider's or the platform's (which also pays moderated work)
            expect(settled, ctx).toBe(sp.e + sp.f);
            expect(earned, `delivered ${ctx}`).toBe(m.delivered);
            expect((await ledger.billingState(acct, "enterprise")).billing.receivable, `receivable ${ctx}`).toBe(
              m.receivable,
            );
          };

          const deliver = async (split: SplitRow) => {
            if (rnd() < 0.1) {
              pendingDelivery.push(split);
              counts.dropped++;
              return;
            }
            const fresh = await provider.recordEarning(acct, split);
            if (fresh) m.delivered += split.earn;
          };

          for (let step = 0; step < STEPS; step++) {
            const r = rnd();
            if (r < 0.25) {
              const id = `h${step}`;
              const amount = RATE * (1 + int(120));
              trace.push(`hold ${id} ${amount}`);
              const res = await ledger.admit(acct, "enterprise", {
                id,
                amount,
                pricing: { kind: "per_gpu_second", rates: { A40: RATE } },
                ttl_ms: 3_600_000,
                model_free: false,
              });
              expect(res.ok, trace.at(-1)).toBe(avail() >= amount);
              if (res.ok) {
                holds.set(id, { amount, status: "pending" });
                holdIds.push(id);
                m.held += amount;
              }
            } else if (r < 0.45 && holds.size) {
              const id = holdIds[Math.max(0, holdIds.length - 1 - int(200))]!;
              const h = holds.get(id)!;
              const gpuMs = int(150_000);
              const share = pick(SHARES);
              trace.push(`settle ${id} ${gpuMs} ${share}`);
              const res = await ledger.settle(id, gpuMs, "A40", {
                provider_id: acct,
                agent_id: `agt${share}`,
                share_bp: share,
                model: "m",
              });
              if ("error" in res) throw new Error(res.error);
              if (h.status === "pending") {
                const c = Math.min(h.amount, Math.ceil((RATE * gpuMs) / 1000));
                const e = Math.floor((c * share) / 10_000);
                Object.assign(h, { status: "settled" });
                m.held -= h.amount;
                m.spent += c;
                m.charges += c;
                m.earn += e;
                m.fee += c - e;
                counts.settles++;
              }
              for (const split of await ledger.splitsOf(id)) await deliver(split);
            } else if (r < 0.55 && holds.size) {
              const id = holdIds[Math.max(0, holdIds.length - 1 - int(200))]!;
              const h = holds.get(id)!;
              const moderated = rnd() < 0.3;
              trace.push(`void ${id} ${moderated ? "moderated" : ""}`);
              await ledger.void(id, moderated ? "content_moderated" : "worker_lost");
              if (h.status === "pending") {
                h.status = "voided";
                m.held -= h.amount;
                if (moderated) {
                  const split = await ledger.platformPays(
                    id,
                    { provider_id: acct, agent_id: "agt-mod", share_bp: 8000, model: "m" },
                    3_000,
                    "A40",
                  );
                  expect(split, trace.at(-1)).toMatchObject({
                    charge: 0,
                    earn: Math.floor((Math.min(h.amount, RATE * 3) * 8000) / 10_000),
                  });
                  m.earn += split!.earn;
                  m.fee -= split!.earn;
                  await deliver(split!);
                }
              }
            } else if (r < 0.85) {
              // a Stripe event: new, or a redelivery, or another event naming the same object
              const kind = rnd();
              let e: StripeEffect;
              if (kind < 0.45)
                e = {
                  type: "credit",
                  object_id: `pi${int(step / 3 + 1)}`,
                  amount: 10_000 * (1_000 + int(5_000)),
                  kind: "card",
                  receipt_url: null,
                };
              else if (kind < 0.55)
                e = {
                  type: "grant",
                  object_id: `in${int(step / 50 + 1)}`,
                  plan: "pro",
                  subscription_id: "sub1",
                  period_end: null,
                  receipt_url: null,
                };
              else if (kind < 0.85)
                e = { type: "refund", charge_id: `ch${int(20)}`, amount_refunded: 10_000 * int(3_000) };
              else e = { type: "dispute", object_id: `dp${int(step / 20 + 1)}`, amount: 10_000 * (100 + int(20_000)) };
              // the same object's amount never changes between deliveries (Stripe objects are immutable where it counts)
              if (e.type === "credit") e.amount = 10_000 * (1_000 + (Number(e.object_id.slice(2)) % 5_000));
              const eventId =
                rnd() < 0.2 && eventIds.length ? eventIds[Math.max(0, eventIds.length - 1 - int(50))]! : `evt${step}`;
              const fault = rnd() < 0.05 && !events.has(eventId);
              trace.push(`${eventId} ${JSON.stringify(e)}${fault ? " FAULT" : ""}`);
              armed = fault;
              let threw = false;
              try {
                await ledger.stripeEffect(acct, "enterprise", eventId, e.type, e);
              } catch (err) {
                if (!fault) throw err;
                threw = true;
                counts.faults++;
              } finally {
                armed = false;
              }
              expect(threw, "an injected fault throws, and only then").toBe(fault);
              if (!threw) {
                if (!events.has(eventId)) {
                  events.add(eventId);
                  eventIds.push(eventId);
                  model(e);
                  counts.effects++;
                }
              }
              if (e.type === "grant") await ledger.setPlan(acct, "enterprise", limits);
            } else if (r < 0.92) {
              const amount = 1 + int(2_000_000);
              trace.push(`debit ${amount}`);
              const res = await ledger.adjust(acct, "enterprise", "debit", `d${step}`, amount, "sim");
              expect(res.ok).toBe(avail() >= amount);
              if (res.ok) m.spent += amount;
            } else if (r < 0.99 && pendingDelivery.length) {
              // late redelivery of dropped earnings, sometimes twice
              const split = pendingDelivery.splice(int(pendingDelivery.length), 1)[0]!;
              for (let i = 0; i < 1 + int(2); i++)
                if (await provider.recordEarning(acct, split)) m.delivered += split.earn;
            } else if (r >= 0.99) {
              const before = await ledger.summary(acct, "enterprise");
              const billing = (await ledger.billingState(acct, "enterprise")).billing;
              partsOf(ledger).reload();
              expect(await ledger.summary(acct, "enterprise")).toEqual(before);
              expect((await ledger.billingState(acct, "enterprise")).billing).toEqual(billing);
              counts.reloads++;
            }
            await check(step, step % 500 === 0);
          }
          // the last redeliveries: every split reaches the provider exactly once
          while (pendingDelivery.length) {
            const split = pendingDelivery.pop()!;
            if (await provider.recordEarning(acct, split)) m.delivered += split.earn;
          }
          expect(m.delivered).toBe(m.earn);
          await check(STEPS, true);
          expect(counts.faults).toBeGreaterThan(50);
          expect(counts.reloads).toBeGreaterThan(50);
          expect(counts.dropped).toBeGreaterThan(50);
          expect(counts.settles).toBeGreaterThan(500);
          expect(m.receivable + m.charges).toBeGreaterThan(0);
        }
      });
    });
  }
});
