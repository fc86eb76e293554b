import { and, desc, eq, isNull } from "drizzle-orm";
import { uniqueViolation } from "../db-errors.ts";
import type { CreateEndpoint, EndpointView, GpuClass, PatchEndpoint } from "../../../schemas/index.ts";
import { db } from "../../db/client.ts";
import { endpoints } from "../../db/schema.ts";
import type { Endpoint } from "../../durable-objects/endpoint.ts";
import type { EndpointSnapshot } from "../../durable-objects/endpoint-state.ts";
import { type Config, config, type Env } from "../../env.ts";
import { ApiError, notFound } from "../../errors.ts";
import type { AuthedAccount } from "../auth.ts";
import { D1Catalog, type CatalogModel } from "../catalog.ts";
import { newId } from "../crypto.ts";
import { billing } from "../billing.ts";
import { broker } from "../broker.ts";
import { RequestService, type SubmitOptions, type Submitted } from "../requests.ts";
import { holdTarget } from "./metering.ts";
import { instanceMs } from "../../durable-objects/endpoint-money.ts";

/** Per instance-hour when the model has no per-second rate for the class (micro-USD; H100 about $9/hour). */
export const DEDICATED_HOURLY: Record<GpuClass, number> = {
  cpu: 72_000,
  A40: 1_100_000,
  L40S: 1_900_000,
  "A100-40": 3_000_000,
  "A100-80": 4_000_000,
  H100: 9_000_000,
  other: 3_000_000,
};

/** The price of one instance-hour now: the model's per-GPU-second rate for the class × 3600, else the class table. */
export function instancePrice(model: CatalogModel, gpuClass: GpuClass): number {
  const p = model.definition.pricing;
  const rate = p.kind === "per_gpu_second" ? p.micro_usd_per_second[gpuClass] : undefined;
  return rate !== undefined ? rate * 3600 : DEDICATED_HOURLY[gpuClass];
}

type EndpointApi = Pick<Endpoint, "create" | "snapshot" | "admit" | "seen" | "ready" | "patch" | "stop" | "resume">;
export const endpointDO = (env: Env, id: string) =>
  env.ENDPOINT.get(env.ENDPOINT.idFromName(id)) as unknown as EndpointApi;

/** Dedicated endpoints, for the routes: D1 keeps ownership and the list, each endpoint's object keeps the rest. */
export class EndpointService {
  constructor(
    private env: Env,
    private cfg?: Config,
  ) {}

  async create(
    account: AuthedAccount,
    body: CreateEndpoint,
    base: string,
  ): Promise<{ view: EndpointView; hold_required: number }> {
    const model = await new D1Catalog(this.env).get(body.model, account.id);
    if (!model) throw new ApiError("not_found", `model '${body.model}' not found`, { model: body.model });
    if (!model.definition.gpu_classes.includes(body.gpu_class)) {
      throw new ApiError("invalid_input", `${body.model} does not run on ${body.gpu_class}`, {
        fields: [{ path: "gpu_class", message: `one of ${model.definition.gpu_classes.join(", ")}` }],
      });
    }
    const price = instancePrice(model, body.gpu_class);
    const maxHourly = body.max_hourly_spend ?? null;
    if (maxHourly !== null && maxHourly < price * Math.max(1, body.min_instances)) {
      throw new ApiError(
        "invalid_input",
        `max_hourly_spend ${maxHourly} cannot fund min_instances at ${price} per instance-hour`,
        { fields: [{ path: "max_hourly_spend", message: "too low" }] },
      );
    }
    // min_instances > 0 starts billing at once: the runway for them must be there now, not discovered a tick later.
    const need = holdTarget(price, body.min_instances, maxHourly);
    const summary = await billing(this.env).summary(account.id, account.plan);
    if (need > summary.available)
      throw new ApiError(
        "insufficient_credits",
        `min_instances ${body.min_instances} need ${need} micro-USD of runway (15 minutes)`,
        { required: need, available: summary.available },
      );
    const id = newId("ep");
    try {
      await db(this.env).insert(endpoints).values({
        id,
        accountId: account.id,
        name: body.name,
        model: body.model,
        gpuClass: body.gpu_class,
        pricePerHour: price,
        state: "pending",
        createdAt: Date.now(),
      });
    } catch (e) {
      if (uniqueViolation(e)) throw new ApiError("conflict", `an endpoint named '${body.name}' exists`);
      throw e;
    }
    const snap = await endpointDO(this.env, id).create({
      id,
      account_id: account.id,
      plan: account.plan,
      name: body.name,
      model: body.model,
      runtime: model.definition.runtime,
      gpu_class: body.gpu_class,
      price_per_hour: price,
      min_instances: body.min_instances,
      max_instances: body.max_instances,
      idle_timeout_s: body.idle_timeout_s,
      scale_up_queue_delay_s: body.scale_up_queue_delay_s,
      init_timeout_s: body.init_timeout_s,
      max_hourly_spend: maxHourly,
      created_at: Date.now(),
    });
    return { view: await this.view(snap, base), hold_required: need };
  }

  async owned(account: AuthedAccount, id: string) {
    const row = await db(this.env)
      .select()
      .from(endpoints)
      .where(and(eq(endpoints.id, id), isNull(endpoints.deletedAt)))
      .get();
    if (!row || row.accountId !== account.id) throw notFound("endpoint");
    return row;
  }

  async list(account: AuthedAccount, base: string): Promise<EndpointView[]> {
    const rows = await db(this.env)
      .select()
      .from(endpoints)
      .where(and(eq(endpoints.accountId, account.id), isNull(endpoints.deletedAt)))
      .orderBy(desc(endpoints.createdAt))
      .limit(100)
      .all();
    return Promise.all(rows.map(async (r) => this.view(await endpointDO(this.env, r.id).snapshot(), base)));
  }

  async get(account: AuthedAccount, id: string, base: string): Promise<EndpointView> {
    await this.owned(account, id);
    return this.view(await endpointDO(this.env, id).snapshot(), base);
  }

  async patch(account: AuthedAccount, id: string, p: PatchEndpoint, base: string): Promise<EndpointView> {
    await this.owned(account, id);
    const cur = (await endpointDO(this.env, id).snapshot()).record;
    const min = p.min_instances ?? cur.min_instances;
    const max = p.max_instances ?? cur.max_instances;
    if (max < min)
      throw new ApiError("invalid_input", "max_instances must be at least min_instances", {
        fields: [{ path: "max_instances", message: `at least ${min}` }],
      });
    if (cur.state === "deleted") throw notFound("endpoint");
    return this.view(await endpointDO(this.env, id).patch(p), base);
  }

  async lifecycle(
    account: AuthedAccount,
    id: string,
    op: "pause" | "resume" | "delete",
    base: string,
  ): Promise<EndpointView> {
    await this.owned(account, id);
    const ep = endpointDO(this.env, id);
    if (op === "resume") {
      const r = await ep.resume();
      if ("error" in r)
        throw new ApiError("insufficient_credits", "resuming needs 15 minutes of runway for min_instances", {
          available: r.available,
        });
      return this.view(r, base);
    }
    const snap = await ep.stop(op === "pause" ? "paused" : "deleted");
    // Deleted, nothing will serve what is still queued: its callers hear now, not at the TTL.
    if (op === "delete") await broker(this.env, `ep:${id}`).cancelQueued("the endpoint was deleted");
    await db(this.env)
      .update(endpoints)
      .set({ state: snap.record.state, ...(op === "delete" ? { deletedAt: Date.now() } : {}) })
      .where(eq(endpoints.id, id));
    return this.view(snap, base);
  }

  /** The endpoint a request names, owned by the caller, and the model it serves (whose schema reads the body). */
  async target(account: AuthedAccount, id: string): Promise<{ id: string; model: CatalogModel }> {
    const row = await this.owned(account, id);
    const model = await new D1Catalog(this.env).get(row.model, account.id);
    if (!model) throw new ApiError("not_found", `model '${row.model}' is no longer served`);
    return { id: row.id, model };
  }

  /**
   * A request to the endpoint: the model's normal input, admitted by the endpoint's object (402 when suspended or
   * unable to wake) and queued in its private pool, with no per-request hold or charge. The input is validated first:
   * bad input neither wakes the endpoint nor queues a job.
   */
  async submit(
    account: AuthedAccount,
    target: { id: string; model: CatalogModel },
    raw: Record<string, unknown>,
    opts: Omit<SubmitOptions, "dedicated">,
  ): Promise<Submitted> {
    const requests = new RequestService(this.env, this.cfg ?? config(this.env));
    requests.validate(target.model, raw);
    const a = await endpointDO(this.env, target.id).admit();
    if (!a.ok)
      throw a.code === "not_found" ? notFound("endpoint") : new ApiError(a.code, a.message, { endpoint_id: target.id });
    return requests.submit(account, target.model, raw, {
      ...opts,
      dedicated: { pool: a.pool, gpu_class: a.gpu_class },
    });
  }

  async view(s: EndpointSnapshot, base: string): Promise<EndpointView> {
    const e = s.record;
    const billing = s.instances.map((i) => ({ i, ms: instanceMs(i) }));
    const ready = s.instances.filter((i) => i.state === "ready" || i.state === "busy" || i.state === "draining").length;
    const rate = ready * e.price_per_hour;
    const summary = await this.summaryOf(e.account_id, e.plan);
    // The queue as it is now (the endpoint's own copy is as of its last step).
    const queued = e.state === "deleted" ? 0 : (await broker(this.env, `ep:${e.id}`).poolStats()).queued;
    return {
      id: e.id,
      name: e.name,
      model: e.model,
      gpu_class: e.gpu_class as GpuClass,
      state: e.state,
      price_per_hour: e.price_per_hour,
      min_instances: e.min_instances,
      max_instances: e.max_instances,
      idle_timeout_s: e.idle_timeout_s,
      scale_up_queue_delay_s: e.scale_up_queue_delay_s,
      init_timeout_s: e.init_timeout_s,
      max_hourly_spend: e.max_hourly_spend,
      instances: billing.map(({ i, ms }) => ({
        id: i.id,
        agent_id: i.agent_id,
        state: i.state,
        since: new Date(i.since).toISOString(),
        billed_s: Math.ceil(ms / 1000),
      })),
      queue_depth: queued,
      spend_rate_per_hour: rate,
      held: e.held,
      runway_s: rate > 0 && summary !== null ? Math.floor(((summary + e.held) * 3600) / rate) : null,
      spent: e.captured,
      written_off: e.written_off,
      billed_s: Math.ceil(billing.reduce((a, b) => a + b.ms, 0) / 1000),
      created_at: new Date(e.created_at).toISOString(),
      run_url: `${base}/v1/endpoints/${e.id}/run`,
    };
  }

  private async summaryOf(accountId: string, plan: string): Promise<number | null> {
    try {
      return (await billing(this.env).summary(accountId, plan as AuthedAccount["plan"])).available;
    } catch {
      return null;
    }
  }
}
