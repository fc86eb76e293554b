import type { DedicatedAssignment } from "../../../schemas/index.ts";
import type { Env } from "../../env.ts";
import { endpointDO } from "./index.ts";
import { Reservations } from "./reservations.ts";

export type DedicatedRoute =
  /** not reserved: the agent serves the public pool */
  | { pool: null }
  /** reserved and loading (no jobs until it reports ready), or draining (no new jobs; its running ones finish) */
  | { pool: null; assignment: DedicatedAssignment; ready: false; draining: boolean }
  /** reserved and ready: only its endpoint's pool */
  | { pool: string; assignment: DedicatedAssignment; ready: true };

/**
 * Where an opted-in agent's lease goes. A reserved agent leases only from its endpoint's pool (never public, never
 * another endpoint's); its poll is also its heartbeat to the endpoint. A reservation the endpoint has ended (released,
 * lost, timed out) is cleared here, epoch-fenced, and the agent is back in the public pool.
 */
export async function routeDedicated(
  env: Env,
  agent: { id: string; gpuClass: string; models: string[] },
): Promise<DedicatedRoute> {
  const res = new Reservations(env);
  const r = await res.seen(agent.id, agent.gpuClass, agent.models, Date.now());
  if (!r) return { pool: null };
  const ep = endpointDO(env, r.endpoint_id);
  const s = await ep.seen(agent.id, r.epoch);
  if (!s.active) {
    await res.free(agent.id, r.endpoint_id, r.epoch);
    return { pool: null };
  }
  const model = (await ep.snapshot()).record.model;
  const assignment = { endpoint_id: r.endpoint_id, model, epoch: r.epoch };
  return s.ready
    ? { pool: `ep:${r.endpoint_id}`, assignment, ready: true }
    : { pool: null, assignment, ready: false, draining: s.draining };
}

/**
 * A heartbeat of a reserved agent keeps its instance alive (billing runs to the last one the endpoint saw); returns
 * the endpoint's pool, whose broker holds the agent's leases.
 */
export async function heartbeatDedicated(env: Env, agentId: string): Promise<string | null> {
  const r = await new Reservations(env).of(agentId);
  if (!r) return null;
  return (await endpointDO(env, r.endpoint_id).seen(agentId, r.epoch)).active ? `ep:${r.endpoint_id}` : null;
}

/** The agent loaded the assigned model: its instance is ready (billing starts by the endpoint's clock). */
export async function dedicatedReady(env: Env, agentId: string, endpointId: string, epoch: number): Promise<boolean> {
  const r = await new Reservations(env).of(agentId);
  if (!r || r.endpoint_id !== endpointId || r.epoch !== epoch) return false;
  return (await endpointDO(env, endpointId).ready(agentId, epoch)).ok;
}
