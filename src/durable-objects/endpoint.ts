import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { deliverSplits, endedSession, raiseFor, recordAnswer, writeTick } from "./endpoint-money.ts";
import { heard, observe, readied, scaleDown, scaleUp, type ScalingHost, wake } from "./endpoint-scaling.ts";
import { ENDPOINT_MIGRATIONS, EndpointSql, LIVE, type EndpointRecord, type InstanceRow } from "./endpoint-sql.ts";
import {
  ACTIVE,
  STEP_MS,
  derivedState,
  newRecord,
  refusal,
  type EndpointAdmission,
  type EndpointConfig,
  type EndpointSnapshot,
  type Knob,
} from "./endpoint-state.ts";
import { runMigrations } from "./migrations.ts";
import { SerialLane } from "./serial.ts";
import { endpointPorts } from "../services/endpoints/ports.ts";
import { TICK_MS } from "../services/endpoints/metering.ts";

/**
 * One per dedicated endpoint: its instances' states, its metering and its money ticks, all by its own clock. Agents
 * are reserved through D1 (exclusive), money moves through the account's running hold (ticks idempotent by seq), the
 * queue lives in the endpoint's private broker pool. The object keeps the transitions; the arithmetic and the scaling
 * policy are in metering.ts, the state rules in endpoint-state.ts, the instance steps in endpoint-scaling.ts and the
 * ticks in endpoint-money.ts. Tests run a subclass whose clock they move (test/worker/support/test-endpoint.ts).
 */
export class Endpoint extends DurableObject<Env> {
  private db = new EndpointSql(this.ctx.storage.sql);
  private ports = endpointPorts(this.env);
  /** one operation at a time: steps await the ledger and D1, and must not interleave with each other */
  protected lane = new SerialLane();
  /** what the instance steps (endpoint-scaling.ts) work through */
  private host: ScalingHost = {
    db: this.db,
    ports: this.ports,
    rec: () => this.rec(),
    end: (i, now, reason) => this.endSession(i, now, reason),
  };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => void runMigrations(ctx.storage, ENDPOINT_MIGRATIONS));
  }

  /** The endpoint's clock: every time it bills or compares is read here. */
  protected now(): number {
    return Date.now();
  }

  private rec(): EndpointRecord {
    const r = this.db.record();
    if (!r) throw new Error("endpoint not created");
    return r;
  }

  async create(r: EndpointConfig): Promise<EndpointSnapshot> {
    return this.lane.run(async () => {
      if (!this.db.record()) {
        const now = this.now();
        this.db.save(newRecord(r, now));
        await this.step(now);
      }
      return this.snapshot();
    });
  }

  async snapshot(): Promise<EndpointSnapshot> {
    return { record: this.rec(), instances: this.db.instances(), now: this.now() };
  }

  /** A request for the endpoint: a stopped endpoint refuses it; one with nothing live is woken (hold first). */
  async admit(): Promise<EndpointAdmission> {
    return this.lane.run(async () => {
      const e = this.db.record();
      const refused = refusal(e);
      // refusal(null) is "not found", so a missing record never gets past this line
      if (refused || !e) return refused!;
      if (this.db.live().length === 0) {
        const now = this.now();
        const short = await wake(this.host, e, now);
        if (short) return { ok: false, code: "insufficient_credits", message: short };
        this.deriveState();
        await this.schedule(now);
      }
      return { ok: true, pool: `ep:${e.id}`, model: e.model, gpu_class: e.gpu_class, runtime: e.runtime };
    });
  }

  /** An agent reserved for this endpoint polled or heartbeat: it is alive; the reply says whether it still is ours. */
  async seen(agentId: string, epoch: number): Promise<{ active: boolean; ready: boolean; draining: boolean }> {
    return this.lane.run(async () => {
      const i = this.db.byAgent(agentId, epoch);
      if (!i || !LIVE.has(i.state)) return { active: false, ready: false, draining: false };
      const next = heard(i, this.now());
      this.db.update(next);
      const ready = next.state === "ready" || next.state === "busy";
      return { active: true, ready, draining: next.state === "draining" };
    });
  }

  /** The agent loaded the model: the instance is ready and its billed session starts now, by this clock. */
  async ready(agentId: string, epoch: number): Promise<{ ok: boolean }> {
    return this.lane.run(async () => {
      const i = this.db.byAgent(agentId, epoch);
      if (!i || (i.state !== "loading" && i.state !== "reserving")) return { ok: !!i && LIVE.has(i.state) };
      const now = this.now();
      this.db.update(readied(i, now));
      const e = this.rec();
      this.db.save({ ...e, init_failures: 0, state: ACTIVE.has(e.state) ? "running" : e.state });
      await this.schedule(now);
      return { ok: true };
    });
  }

  async patch(p: Partial<Pick<EndpointRecord, Knob>>): Promise<EndpointSnapshot> {
    return this.lane.run(async () => {
      const e = this.rec();
      this.db.save({ ...e, ...p });
      if (ACTIVE.has(e.state)) await this.step(this.now());
      return this.snapshot();
    });
  }

  /**
   * pause / delete: idle instances end now and busy ones drain (their requests finish), each billed to the second it
   * ends; the hold is settled once none is left.
   */
  async stop(to: "paused" | "deleted"): Promise<EndpointSnapshot> {
    return this.lane.run(async () => {
      const e = this.rec();
      if (e.state === "deleted") return this.snapshot();
      const now = this.now();
      this.db.save({ ...e, state: to });
      await this.drain(now, to);
      if (this.db.live().length === 0) await this.money(now, true);
      await this.schedule(now);
      return this.snapshot();
    });
  }

  /** resume (from paused or suspended): needs the runway for min_instances up front. */
  async resume(): Promise<EndpointSnapshot | { error: string; available: number }> {
    return this.lane.run(async () => {
      const e = this.rec();
      if (e.state !== "paused" && e.state !== "suspended") return this.snapshot();
      const raised = await raiseFor(this.ports, e, e.min_instances);
      if (!raised.ok) return { error: "insufficient_credits", available: raised.available };
      const now = this.now();
      this.db.save({ ...e, state: "pending", held: raised.held, last_tick_at: now, init_failures: 0 });
      await this.step(now);
      return this.snapshot();
    });
  }

  override async alarm(): Promise<void> {
    await this.lane.run(async () => {
      if (this.db.record() && this.wants()) await this.step(this.now());
    });
  }

  /** Whether the endpoint has anything to look after: it is active, or instances or money are still out. */
  protected wants(): boolean {
    return ACTIVE.has(this.rec().state) || this.owes();
  }

  private owes(): boolean {
    return this.db.live().length > 0 || this.db.pendingTicks().length > 0 || this.rec().held > 0;
  }

  // ---- the step: instances, scaling, money --------------------------------------------------------------------------

  protected async step(now: number): Promise<void> {
    for (const t of this.db.pendingTicks()) await this.sendTick(t.seq, t.body);
    await observe(this.host, await this.ports.poolStats(this.rec().id), now);
    if (ACTIVE.has(this.rec().state)) {
      await scaleDown(this.host, this.rec(), now);
      await scaleUp(this.host, this.rec(), now);
    }
    const stopped = !ACTIVE.has(this.rec().state) && this.db.live().length === 0 && this.rec().held > 0;
    // A suspended endpoint whose last instance has drained settles and gives the rest of its hold back.
    if (stopped) await this.money(now, true);
    else if (now - this.rec().last_tick_at >= TICK_MS) await this.money(now, false);
    this.deriveState();
    if (this.rec().state === "failed") {
      for (const i of this.db.live()) await this.endSession(i, now, "failed");
      await this.money(now, true);
    }
    await this.schedule(now);
  }

  /** Ends an instance's session (endedSession bills it) and hands its agent back to the free pool. */
  private async endSession(i: InstanceRow, now: number, reason: string): Promise<void> {
    this.db.update(endedSession(i, now, reason));
    if (reason === "init_timeout") {
      const e = this.rec();
      this.db.save({ ...e, init_failures: e.init_failures + 1 });
    }
    await this.ports.free(i.agent_id, this.rec().id, i.epoch);
  }

  /** Stopping (pause, delete, out of credit): idle instances end now, busy ones drain (their requests finish). */
  private async drain(now: number, reason: string): Promise<void> {
    for (const i of this.db.live()) {
      if (i.state === "busy") this.db.update({ ...i, state: "draining", since: now });
      else if (i.state !== "draining") await this.endSession(i, now, reason);
    }
  }

  /** A money tick: captures what accrued since the last one and tops the hold up to the live instances' runway. */
  private async money(now: number, close: boolean): Promise<void> {
    const t = writeTick(this.ctx.storage, this.db, this.rec(), now, close);
    await this.sendTick(t.seq, t.body);
  }

  /** Sends a written tick; an account that could not top the hold up suspends the endpoint. */
  private async sendTick(seq: number, body: string): Promise<void> {
    const e = this.rec();
    const r = await this.ports.tick(e.account_id, e.id, JSON.parse(body));
    if (!r.ok || !("captured" in r)) return;
    this.ctx.storage.transactionSync(() => {
      const cur = recordAnswer(this.db, this.rec(), seq, r);
      if (!r.topped_up && ACTIVE.has(cur.state)) this.db.save({ ...cur, state: "suspended" });
    });
    await deliverSplits(this.ports, e.account_id, r.split_ids);
    if (this.rec().state === "suspended") {
      await this.drain(this.now(), "suspended");
      if (this.db.live().length === 0 && this.rec().held > 0) await this.money(this.now(), true);
    }
  }

  private deriveState(): void {
    const e = this.rec();
    const state = derivedState(e, this.db.live());
    if (state !== e.state) this.db.save({ ...e, state });
  }

  /** The next look while anything is waiting or owed. */
  protected async schedule(now: number): Promise<void> {
    const e = this.rec();
    const waiting = e.state === "pending" || e.state === "provisioning" || e.queue_depth > 0;
    if (waiting || this.owes()) await this.ctx.storage.setAlarm(now + STEP_MS);
  }
}
