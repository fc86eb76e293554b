import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { RegisterRequest } from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { agents, providers } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { ApiError } from "../errors.ts";
import { broker } from "./broker.ts";
import { newId } from "./crypto.ts";

/** The most live registrations one agent token may hold (a host restarting registers again; a crashed one lingers). */
export const MAX_LIVE_AGENTS_PER_TOKEN = 64;
/** A registration counts as live this long after it was made, or after the broker last saw the agent poll. */
const LIVE_MS = 60_000;
const AGENT_POOL = "public";

export type Strike = "rejected_completion" | "input_rejection";

/**
 * What a provider's agent may be: the class it registers with must be one the admin allowed the provider, and its
 * GPU count per job one it actually listed. Both are fixed here, at registration; the broker bills every job from
 * them, never from what a completion message claims.
 */
export class AgentService {
  constructor(private env: Env) {}

  async register(tokenId: string, providerId: string, body: RegisterRequest): Promise<string> {
    const d = db(this.env);
    const prov = await d
      .select({ gpuClasses: providers.gpuClasses })
      .from(providers)
      .where(eq(providers.id, providerId))
      .get();
    const allowed = prov?.gpuClasses ?? ["cpu"];
    if (!allowed.includes(body.gpu_class)) {
      throw new ApiError(
        "forbidden",
        `this provider may register GPU classes ${allowed.join(", ")}, not ${body.gpu_class}`,
        { allowed },
      );
    }
    const gpusPerJob = body.gpus_per_job ?? 1;
    if (gpusPerJob > Math.max(1, body.gpus.length)) {
      throw new ApiError(
        "invalid_input",
        `gpus_per_job (${gpusPerJob}) exceeds the GPUs listed (${body.gpus.length})`,
        { fields: [{ path: "gpus_per_job", message: "more than the GPUs listed" }] },
      );
    }
    if ((await this.live(tokenId)) >= MAX_LIVE_AGENTS_PER_TOKEN) {
      throw new ApiError(
        "agent_limit_exceeded",
        `this token has ${MAX_LIVE_AGENTS_PER_TOKEN} live agents; deregister one or wait for an idle one to lapse`,
        { limit: MAX_LIVE_AGENTS_PER_TOKEN },
        { "Retry-After": String(LIVE_MS / 1000) },
      );
    }
    const id = newId("agent");
    await d.insert(agents).values({
      id,
      providerId,
      tokenId,
      name: body.name,
      version: body.version,
      gpuClass: body.gpu_class,
      gpuCount: gpusPerJob,
      gpus: { devices: body.gpus, driver: body.driver ?? null, cuda: body.cuda ?? null },
      runtimes: body.runtimes,
      models: body.models,
      slots: body.slots,
      registeredAt: Date.now(),
    });
    return id;
  }

  /**
   * Live registrations of a token. Only when the count reaches the limit does it ask the broker which of them have
   * polled lately; the rest are marked deregistered, so a host that crashed and restarted many times is not locked out.
   */
  private async live(tokenId: string): Promise<number> {
    const d = db(this.env);
    const rows = await d
      .select({ id: agents.id, registeredAt: agents.registeredAt })
      .from(agents)
      .where(and(eq(agents.tokenId, tokenId), isNull(agents.deregisteredAt)))
      .all();
    if (rows.length < MAX_LIVE_AGENTS_PER_TOKEN) return rows.length;
    const now = Date.now();
    const seen = new Set(
      await broker(this.env, AGENT_POOL).seenSince(
        rows.map((r) => r.id),
        now - LIVE_MS,
      ),
    );
    const lapsed = rows.filter((r) => r.registeredAt < now - LIVE_MS && !seen.has(r.id)).map((r) => r.id);
    for (let i = 0; i < lapsed.length; i += 50) {
      await d
        .update(agents)
        .set({ deregisteredAt: now })
        .where(inArray(agents.id, lapsed.slice(i, i + 50)));
    }
    return rows.length - lapsed.length;
  }

  async deregister(agentId: string): Promise<void> {
    await db(this.env).update(agents).set({ deregisteredAt: Date.now() }).where(eq(agents.id, agentId));
  }

  /** Counts a strike against an agent, visible to admins on the provider's agent list. */
  async strike(agentId: string, kind: Strike): Promise<void> {
    const col = kind === "rejected_completion" ? agents.rejectedCompletions : agents.inputRejections;
    await db(this.env)
      .update(agents)
      .set({ [kind === "rejected_completion" ? "rejectedCompletions" : "inputRejections"]: sql`${col} + 1` })
      .where(eq(agents.id, agentId));
  }
}
