import type { Plan } from "../../schemas/index.ts";
import { holdTarget, instancesToAdd, spendCapInstances } from "../services/endpoints/metering.ts";
import type { EndpointPorts } from "../services/endpoints/ports.ts";
import type { EndpointRecord, EndpointSql, InstanceRow } from "./endpoint-sql.ts";

/** What the scaling steps need from the endpoint's object. */
export interface ScalingHost {
  db: EndpointSql;
  ports: EndpointPorts;
  rec(): EndpointRecord;
  release(i: InstanceRow, now: number, reason: string): Promise<void>;
}

/** Releases instances idle past idle_timeout_s above min_instances, newest first. */
export async function scaleDown(h: ScalingHost, e: EndpointRecord, now: number): Promise<void> {
  const live = h.db.live();
  let count = live.length;
  // Newest first: the longest-running instances stay (warm caches, and their 60-s minimum is long spent).
  for (const i of [...live].reverse()) {
    if (count <= e.min_instances) break;
    const idle = i.state === "ready" && i.idle_since !== null && now - i.idle_since >= e.idle_timeout_s * 1000;
    if (idle && e.queue_depth === 0) {
      await h.release(i, now, "idle");
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
