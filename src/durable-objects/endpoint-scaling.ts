import type { Plan } from "../../schemas/index.ts";
import { LOST_AFTER_MS, holdTarget, instancesToAdd, spendCapInstances } from "../services/endpoints/metering.ts";
import type { EndpointPorts } from "../services/endpoints/ports.ts";
import { raiseFor } from "./endpoint-money.ts";
import type { EndpointRecord, EndpointSql, InstanceRow } from "./endpoint-sql.ts";

type PoolStats = Awaited<ReturnType<EndpointPorts["poolStats"]>>;

/**
 * The instance steps of an endpoint's round, in the order the object runs them: the pool's queue and each live
 * instance observed, then idle ones scaled down, then what the queue asks for added.
 */

/** What the instance steps need from the endpoint's object. */
export interface ScalingHost {
  db: EndpointSql;
  ports: EndpointPorts;
  rec(): EndpointRecord;
  /** ends an instance's session (billed to now) and frees its agent */
  end(i: InstanceRow, now: number, reason: string): Promise<void>;
}

/**
 * What the pool says (queued requests, jobs running per agent) taken in: the queue's depth and since when it is
 * non-empty, and each live instance: one not heard from is lost, one not ready within init_timeout_s is given up, a
 * ready one is busy while it runs a job, a draining one ends when idle.
 */
export async function observe(h: ScalingHost, stats: PoolStats, now: number): Promise<void> {
  const e = h.rec();
  h.db.save({ ...e, queue_depth: stats.queued, queued_since: stats.queued > 0 ? (e.queued_since ?? now) : null });
  for (const i of h.db.live()) {
    const jobs = stats.running[i.agent_id] ?? 0;
    if (now - i.last_hb > LOST_AFTER_MS) {
      await h.end(i, now, "lost");
    } else if ((i.state === "reserving" || i.state === "loading") && now - i.reserved_at > e.init_timeout_s * 1000) {
      await h.end(i, now, "init_timeout");
    } else if (i.state === "ready" || i.state === "busy") {
      const state = jobs > 0 ? "busy" : "ready";
      const idleSince = jobs > 0 ? null : (i.idle_since ?? now);
      if (state !== i.state || idleSince !== i.idle_since) {
        h.db.update({ ...i, state, since: state !== i.state ? now : i.since, idle_since: idleSince });
      }
    } else if (i.state === "draining" && jobs === 0) {
      await h.end(i, now, "drained");
    }
  }
}

/** An instance's agent was heard from (a poll or a heartbeat): a reserving one is loading the model now. */
export function heard(i: InstanceRow, now: number): InstanceRow {
  return i.state === "reserving" ? { ...i, last_hb: now, state: "loading", since: now } : { ...i, last_hb: now };
}

/** The agent loaded the model: the instance is ready, idle, and its billed session starts now. */
export function readied(i: InstanceRow, now: number): InstanceRow {
  return { ...i, state: "ready", since: now, ready_at: now, last_hb: now, idle_since: now };
}

/**
 * Wakes an endpoint with nothing live for a request not yet in its pool: the hold for one instance first, then one
 * instance reserved for the request (counted as queued). Returns why not when the account cannot fund it.
 */
export async function wake(h: ScalingHost, e: EndpointRecord, now: number): Promise<string | null> {
  const raised = await raiseFor(h.ports, e, 1);
  if (!raised.ok)
    return `waking the endpoint needs ${raised.target} micro-USD of runway; ${raised.available} available`;
  h.db.save({ ...e, held: raised.held });
  await scaleUp(h, { ...h.rec(), queue_depth: Math.max(1, e.queue_depth), queued_since: e.queued_since ?? now }, now);
  return null;
}

/** Ends instances idle past idle_timeout_s above min_instances, newest first. */
export async function scaleDown(h: ScalingHost, e: EndpointRecord, now: number): Promise<void> {
  const live = h.db.live();
  let count = live.length;
  // Newest first: the longest-running instances stay (warm caches, and their 60-s minimum is long spent).
  for (const i of [...live].reverse()) {
    if (count <= e.min_instances) break;
    const idle = i.state === "ready" && i.idle_since !== null && now - i.idle_since >= e.idle_timeout_s * 1000;
    if (idle && e.queue_depth === 0) {
      await h.end(i, now, "idle");
      count--;
    }
  }
}

/**
 * Adds what the policy asks for (metering.ts `instancesToAdd`): the hold is raised first, then an agent is claimed;
 * a refused hold or no free agent stops the round (the next step tries again).
 */
export async function scaleUp(h: ScalingHost, e: EndpointRecord, now: number): Promise<void> {
  const live = h.db.live().filter((i) => i.state !== "draining");
  const add = instancesToAdd({
    min: e.min_instances,
    max: e.max_instances,
    cap: spendCapInstances(e.price_per_hour, e.max_hourly_spend),
    live: live.length,
    queued: e.queue_depth,
    queueWaitMs: e.queued_since === null ? 0 : now - e.queued_since,
    queueDelayMs: e.scale_up_queue_delay_s * 1000,
  });
  const failed = h.db
    .instances()
    .filter((i) => i.reason === "init_timeout")
    .map((i) => i.agent_id);
  for (let k = 0; k < add; k++) {
    // The hold is raised before the instance exists: an instance is never started that the account cannot fund.
    const target = holdTarget(e.price_per_hour, live.length + k + 1, e.max_hourly_spend);
    const cur = h.rec();
    if (target > cur.held) {
      const raised = await h.ports.raiseHold(e.account_id, e.plan as Plan, e.id, target);
      if (!raised.ok) break;
      h.db.save({ ...cur, held: raised.held });
    }
    const r = await h.ports.reserve(e.id, e.gpu_class, e.model, failed);
    if (!r) break;
    h.db.insert({
      id: `inst_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`,
      agent_id: r.agent_id,
      epoch: r.epoch,
      state: "reserving",
      since: now,
      reserved_at: now,
      ready_at: null,
      last_hb: now,
      idle_since: null,
      released_at: null,
      billed_ms: 0,
      reported_ms: 0,
      provider_id: r.provider_id,
      share_bp: r.share_bp,
      reason: null,
    });
    // The queue restarts its delay clock: the next instance is added only if this one does not drain it.
    h.db.save({ ...h.rec(), queued_since: h.rec().queue_depth > 0 ? now : null });
  }
}
