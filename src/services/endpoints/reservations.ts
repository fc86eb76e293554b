import type { Env } from "../../env.ts";
import { earnerFor } from "../payments/earnings.ts";

/** How recently an opted-in agent must have polled to be reserved. */
export const FRESH_MS = 60_000;

export interface Reserved {
  agent_id: string;
  epoch: number;
  provider_id: string | null;
  share_bp: number;
}

/**
 * The exclusive reservation of opted-in agents, in D1. `dedicated_agents.endpoint_id` is one column per agent and
 * every claim is a conditional UPDATE (`WHERE endpoint_id IS NULL`), which D1 applies atomically: two endpoints racing
 * for one agent cannot both win, and the epoch fences a reservation released and claimed again.
 */
export class Reservations {
  constructor(private env: Pick<Env, "DB">) {}

  /** An opted-in agent polled: it is known (and fresh) for reservation; returns its current reservation, if any. */
  async seen(
    agentId: string,
    gpuClass: string,
    models: string[],
    now: number,
  ): Promise<{ endpoint_id: string; epoch: number } | null> {
    const r = await this.env.DB.prepare(
      `INSERT INTO dedicated_agents (agent_id, gpu_class, models, last_seen) VALUES (?, ?, ?, ?)
       ON CONFLICT (agent_id) DO UPDATE SET gpu_class = excluded.gpu_class, models = excluded.models, last_seen = excluded.last_seen
       RETURNING endpoint_id, epoch`,
    )
      .bind(agentId, gpuClass, JSON.stringify(models), now)
      .first<{ endpoint_id: string | null; epoch: number }>();
    return r?.endpoint_id ? { endpoint_id: r.endpoint_id, epoch: r.epoch } : null;
  }

  async of(agentId: string): Promise<{ endpoint_id: string; epoch: number } | null> {
    const r = await this.env.DB.prepare(`SELECT endpoint_id, epoch FROM dedicated_agents WHERE agent_id = ?`)
      .bind(agentId)
      .first<{ endpoint_id: string | null; epoch: number }>();
    return r?.endpoint_id ? { endpoint_id: r.endpoint_id, epoch: r.epoch } : null;
  }

  /** Claims one free, fresh agent of the class that serves the model (not one in `exclude`), or none. */
  async claim(
    endpointId: string,
    gpuClass: string,
    model: string,
    exclude: string[],
    now: number,
  ): Promise<Reserved | null> {
    const skip = exclude.length ? `AND agent_id NOT IN (${exclude.map(() => "?").join(",")})` : "";
    const r = await this.env.DB.prepare(
      `UPDATE dedicated_agents SET endpoint_id = ?, epoch = epoch + 1, reserved_at = ?
       WHERE endpoint_id IS NULL AND agent_id = (
         SELECT agent_id FROM dedicated_agents
         WHERE endpoint_id IS NULL AND gpu_class = ? AND last_seen >= ? ${skip}
           AND EXISTS (SELECT 1 FROM json_each(models) WHERE value = ?)
         ORDER BY last_seen DESC LIMIT 1)
       RETURNING agent_id, epoch`,
    )
      .bind(endpointId, now, gpuClass, now - FRESH_MS, ...exclude, model)
      .first<{ agent_id: string; epoch: number }>();
    if (!r) return null;
    const earner = await earnerFor(this.env as Env, r.agent_id, model);
    return {
      agent_id: r.agent_id,
      epoch: r.epoch,
      provider_id: earner?.provider_id ?? null,
      share_bp: earner?.share_bp ?? 0,
    };
  }

  /** Ends a reservation, only the one with this epoch (a later claim of the same agent is not touched). */
  async free(agentId: string, endpointId: string, epoch: number): Promise<boolean> {
    const r = await this.env.DB.prepare(
      `UPDATE dedicated_agents SET endpoint_id = NULL, reserved_at = NULL WHERE agent_id = ? AND endpoint_id = ? AND epoch = ?`,
    )
      .bind(agentId, endpointId, epoch)
      .run();
    return r.meta.changes > 0;
  }
}
