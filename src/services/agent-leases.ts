import type { z } from "zod";
import {
  type DedicatedReady,
  type DeregisterRequest,
  type DeregisterResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type LeaseRequest,
  type LeaseResponse,
  liftInlineInputs,
  liftModeration,
} from "../../schemas/index.ts";
import type { Env } from "../env.ts";
import { ApiError } from "../errors.ts";
import { AGENT_POOL, ownAgent } from "./agent-jobs.ts";
import { AgentService } from "./agents.ts";
import type { AuthedAgent } from "./auth-types.ts";
import { broker } from "./broker.ts";
import { dedicatedReady, heartbeatDedicated, routeDedicated } from "./endpoints/agents.ts";

/**
 * An agent's calls that are not about one job: the lease long-poll, the heartbeat that extends its leases, leaving
 * (drain), and a dedicated instance reporting its model loaded. Each first checks the agent belongs to the token.
 */
export class AgentLeases {
  constructor(private env: Env) {}

  /** null when no job arrived within wait_ms (the route's 204). */
  async lease(agent: AuthedAgent, body: z.output<typeof LeaseRequest>): Promise<z.input<typeof LeaseResponse> | null> {
    const row = await ownAgent(this.env, agent, body.agent_id);
    // An opted-in agent reserved for a dedicated endpoint leases only from that endpoint's pool, once it is ready.
    const ded = body.dedicated ? await routeDedicated(this.env, row) : { pool: null };
    if ("assignment" in ded && !ded.ready) {
      // A draining instance takes no new job: its poll is held like an empty long-poll, so the agent does not spin.
      if (ded.draining) await new Promise((r) => setTimeout(r, Math.min(body.wait_ms ?? 0, 5000)));
      return { jobs: [], assignment: ded.assignment };
    }
    const jobs = await broker(this.env, ded.pool ?? AGENT_POOL).lease(
      {
        agent_id: row.id,
        runtimes: row.runtimes,
        models: row.models,
        gpu_class: row.gpuClass,
        gpu_count: row.gpuCount,
        slots_free: body.slots_free,
        loaded_models: body.loaded_models,
        cached_models: body.cached_models,
        prefetch: body.prefetch,
        ...(body.comfyui ? { comfyui: body.comfyui } : {}),
      },
      body.wait_ms,
    );
    if ("assignment" in ded) return { jobs, assignment: ded.assignment };
    if (jobs.length === 0) return null;
    return { jobs: jobs.map((j) => liftInlineInputs(liftModeration(j))) };
  }

  async heartbeat(agent: AuthedAgent, body: HeartbeatRequest): Promise<HeartbeatResponse> {
    await ownAgent(this.env, agent, body.agent_id);
    const pool = body.dedicated ? await heartbeatDedicated(this.env, body.agent_id) : null;
    if (!pool) return broker(this.env, AGENT_POOL).heartbeat(body.agent_id, body.leases);
    // A reserved agent's leases are its endpoint's; a public job it was finishing when reserved is still public.
    const out = await broker(this.env, pool).heartbeat(body.agent_id, body.leases);
    const lost = new Set(out.cancel.filter((x) => x.reason === "lease_lost").map((x) => x.job_id));
    if (lost.size) {
      const pub = await broker(this.env, AGENT_POOL).heartbeat(
        body.agent_id,
        body.leases.filter((l) => lost.has(l.job_id)),
      );
      out.extended.push(...pub.extended);
      out.cancel = out.cancel.filter((x) => !lost.has(x.job_id)).concat(pub.cancel);
    }
    return out;
  }

  /** Drops the agent's parked long-polls and puts back any job handed to them, then marks it deregistered. */
  async deregister(agent: AuthedAgent, body: z.output<typeof DeregisterRequest>): Promise<DeregisterResponse> {
    await ownAgent(this.env, agent, body.agent_id);
    const released = await broker(this.env, AGENT_POOL).forget(body.agent_id);
    await new AgentService(this.env).deregister(body.agent_id);
    return released;
  }

  /** The reserved agent loaded its endpoint's model: the instance is ready and its billed session starts. */
  async dedicatedReady(agent: AuthedAgent, body: DedicatedReady): Promise<void> {
    await ownAgent(this.env, agent, body.agent_id);
    if (!(await dedicatedReady(this.env, body.agent_id, body.endpoint_id, body.epoch)))
      throw new ApiError("conflict", "this reservation has ended");
  }
}
