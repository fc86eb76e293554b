import { and, eq } from "drizzle-orm";
import { COMFY_SPEC_KEY, INLINE_INPUTS_KEY } from "../../schemas/index.ts";
import { chosenModeration, withModeration } from "./moderation-choice.ts";
import { db } from "../db/client.ts";
import { requests } from "../db/schema.ts";
import type { JobView } from "../durable-objects/job-broker.ts";
import { ApiError, notFound } from "../errors.ts";
import type { AuthedAccount } from "./auth.ts";
import { type Admission, billing, rateHeaders } from "./billing.ts";
import { DEFAULT_POOL, broker } from "./broker.ts";
import type { CatalogModel } from "./catalog.ts";
import { newId } from "./crypto.ts";
import { uniqueViolation } from "./db-errors.ts";
import { putInputs, requestHash, stageInputs } from "./submit-inputs.ts";
import { validateModelInput } from "./model-input.ts";
import { workflowRunOf } from "./workflows/notify.ts";
import { RequestViews } from "./requests-view.ts";

/** re-exported for the workflow run object, which imports it from here */
export { withModeration } from "./moderation-choice.ts";

export interface SubmitOptions {
  mode: "sync" | "async";
  idempotencyKey?: string;
  webhook?: string;
  base: string;
  /** a dedicated endpoint's request: its private pool and class; no per-request hold (its instances are billed) */
  dedicated?: { pool: string; gpu_class: string };
}

export interface Submitted {
  id: string;
  job: JobView;
  pool: string;
  replayed: boolean;
  /** response headers from the ledger: x-remaining-credits and RateLimit-* */
  headers: Record<string, string>;
}

/** A request's lifecycle: submit, ownership, wait, cancel, settle; its views come from RequestViews. */
export class RequestService extends RequestViews {
  /** Checks an input against the model's schema without admitting or storing anything (throws the 400/422). */
  validate(model: CatalogModel, raw: Record<string, unknown>): void {
    const bin = Object.entries(raw)
      .filter(([, v]) => v instanceof Uint8Array)
      .map(([k]) => [k, "binary"]);
    validateModelInput(model.definition.input_schema, { ...raw, ...Object.fromEntries(bin) });
  }

  /** Voids the hold of a submission whose job was never queued (nothing ran, so nothing is charged). */
  private async voidUnqueued(accountId: string, id: string, reason: string): Promise<void> {
    await billing(this.env).closeHold(accountId, id, { status: "FAILED", gpu_ms: null, gpu_class: null, reason });
  }

  /**
   * Validates the input with the model's schema, admits the request through billing and queues the job. Nothing is
   * held or queued for input that fails validation.
   *
   * Without an Idempotency-Key the path touches no D1: small image inputs travel inside the job, large ones are put
   * in R2 while the ledger decides (deleted again when it refuses), and the request row is written by the events
   * queue from the broker's outbox (the `record` of the job, committed with it). With a key, the row is written
   * before the job, as its unique index is what makes a racing duplicate a replay.
   *
   * Crash-atomic in this order: the hold (which names its job's pool), [the keyed row], the job. A crash after the
   * hold leaves a hold the ledger's reconciler checks against the broker within about a minute: a job that never came
   * to be is written as failed there (so a late enqueue cannot revive it), and the hold is voided; the failed job's
   * event moves a keyed row written before the crash to FAILED, so no row is left without a job behind it.
   */
  async submit(
    account: AuthedAccount,
    model: CatalogModel,
    raw: Record<string, unknown>,
    opts: SubmitOptions,
  ): Promise<Submitted> {
    const def = model.definition;
    const images = new Map<string, Uint8Array>();
    for (const [k, v] of Object.entries(raw)) if (v instanceof Uint8Array) images.set(k, v);
    // Checked before anything is stored or held: a looser policy than the plan allows is refused with nothing kept.
    const { moderation: requested, ...fields } = raw;
    const moderation = chosenModeration(requested, def, account.plan);
    const binary = Object.fromEntries([...images.keys()].map((k) => [k, "binary"]));
    const input = validateModelInput(def.input_schema, { ...fields, ...binary });

    const bodyHash = opts.idempotencyKey ? await requestHash(def.slug, raw) : null;
    if (opts.idempotencyKey) {
      const prior = await this.priorByKey(account.id, opts.idempotencyKey);
      if (prior) return this.replay(prior, bodyHash!);
    }

    const id = newId("req");
    const files = await stageInputs(def, images, input, account.id, id, this.cfg);
    const removeFiles = async () => {
      const keys = files.large.map((f) => f.key);
      if (keys.length) await this.env.BLOBS.delete(keys).catch(() => undefined);
    };
    delete input.base64;
    // A private ComfyUI model's graph travels with the job: agents hold no copy of it.
    if (model.comfy) input[COMFY_SPEC_KEY] = model.comfy.spec;
    if (Object.keys(files.inline).length) input[INLINE_INPUTS_KEY] = files.inline;

    const uploads = files.large.length ? putInputs(this.env, files.large) : null;
    let admission: Admission | null;
    try {
      admission = opts.dedicated
        ? null
        : await billing(this.env).admit(account.id, account.plan, id, def, input, model.pool);
    } catch (e) {
      if (uploads) await uploads;
      await removeFiles();
      throw e;
    }
    if (uploads && (await uploads).some((r) => r.status === "rejected")) {
      if (admission) await this.voidUnqueued(account.id, id, "enqueue_failed");
      await removeFiles();
      throw new ApiError("internal", "the input could not be stored; nothing was charged");
    }
    // A dedicated endpoint's request goes to its private pool, on its GPU class, with no per-request hold. Its row is
    // written before its job, as a keyed request's is: agent calls find a private pool's jobs through it.
    const pool = opts.dedicated?.pool ?? model.pool;
    const gpuClasses = opts.dedicated ? [opts.dedicated.gpu_class] : def.gpu_classes;
    const rowFirst = Boolean(opts.idempotencyKey || opts.dedicated);
    if (rowFirst) {
      try {
        await db(this.env)
          .insert(requests)
          .values({
            id,
            accountId: account.id,
            model: def.slug,
            pool,
            mode: opts.mode,
            status: "QUEUED",
            idempotencyKey: opts.idempotencyKey ?? null,
            bodyHash,
            webhookUrl: opts.webhook ?? null,
            baseUrl: opts.base,
            createdAt: Date.now(),
          });
      } catch (e) {
        // No row, so no job will be queued: the hold is voided at once and the stored inputs removed.
        const reason = uniqueViolation(e) ? "idempotency_conflict" : "enqueue_failed";
        if (admission) await this.voidUnqueued(account.id, id, reason);
        await removeFiles();
        // Two requests with one Idempotency-Key raced past the lookup above: the other one's row won.
        const prior =
          opts.idempotencyKey && uniqueViolation(e) ? await this.priorByKey(account.id, opts.idempotencyKey) : null;
        if (prior) return this.replay(prior, bodyHash!);
        throw e;
      }
    }
    // The hold (and a row written first) exist now, so the job must reach a terminal state: on an error the broker
    // is asked to fail the job unless it was queued after all; if even that cannot be said, the reconciler settles it.
    let job: JobView;
    try {
      job = await broker(this.env, pool).enqueue({
        id,
        account_id: account.id,
        model: def.slug,
        runtime: def.runtime,
        gpu_classes: gpuClasses,
        input: withModeration(input, def, moderation),
        priority: admission?.priority ?? 0,
        exec_timeout_ms: def.max_execution_s * 1000,
        ttl_ms: this.cfg.JOB_TTL_S * 1000,
        ...(model.comfy ? { requires: model.comfy.requires } : {}),
        ...(rowFirst
          ? {}
          : {
              record: {
                pool,
                mode: opts.mode,
                webhook_url: opts.webhook ?? null,
                base_url: opts.base,
                created_at: Date.now(),
              },
            }),
      });
    } catch (e) {
      const [r] = await broker(this.env, pool).reconcile([{ id, account_id: account.id, model: def.slug }]);
      if (admission && r && !r.present) await this.voidUnqueued(account.id, id, "submission_interrupted");
      throw e;
    }
    return {
      id,
      job,
      pool,
      replayed: false,
      headers: admission ? rateHeaders(admission.rate, admission.available) : {},
    };
  }

  private priorByKey(accountId: string, key: string) {
    return db(this.env)
      .select({ id: requests.id, pool: requests.pool, bodyHash: requests.bodyHash })
      .from(requests)
      .where(and(eq(requests.accountId, accountId), eq(requests.idempotencyKey, key)))
      .get();
  }

  /**
   * Stripe's semantics for a key seen before: another body is a conflict; the same body gets the first request's
   * response once its job exists, and 409 while the first request is still being admitted.
   */
  private async replay(
    prior: { id: string; pool: string; bodyHash: string | null },
    bodyHash: string,
  ): Promise<Submitted> {
    if (prior.bodyHash !== bodyHash)
      throw new ApiError("idempotency_conflict", "Idempotency-Key was used with a different request body");
    const job = await broker(this.env, prior.pool).get(prior.id);
    if (!job)
      throw new ApiError(
        "idempotency_conflict",
        "a request with this Idempotency-Key is still being processed; retry shortly",
        { request_id: prior.id },
        { "Retry-After": "1" },
      );
    return { id: prior.id, job, pool: prior.pool, replayed: true, headers: {} };
  }

  /**
   * Ownership check: another account's request is reported as not found, not forbidden. The broker of the pool every
   * catalog model runs in is asked first: it holds the job from the moment the 202 was sent, before the events
   * queue has projected the D1 row (read your own write), and it answers from the same DO call the status needs.
   * D1 names the pool of a request the broker does not know there.
   */
  async owned(account: AuthedAccount, id: string): Promise<{ pool: string; model: string; job?: JobView }> {
    // A workflow node's job ({run}:{node}) is the run's, not a request: its intermediate outputs are never served.
    if (workflowRunOf(id)) throw notFound("request");
    const job = await broker(this.env, DEFAULT_POOL).get(id);
    if (job) {
      if (job.account_id !== account.id) throw notFound("request");
      return { pool: DEFAULT_POOL, model: job.model, job };
    }
    const row = await db(this.env)
      .select({ pool: requests.pool, model: requests.model, accountId: requests.accountId })
      .from(requests)
      .where(eq(requests.id, id))
      .get();
    if (!row || row.accountId !== account.id || row.pool === DEFAULT_POOL) throw notFound("request");
    return row;
  }

  async job(account: AuthedAccount, id: string): Promise<JobView> {
    const { pool, job: known } = await this.owned(account, id);
    const job = known ?? (await broker(this.env, pool).get(id));
    if (!job) throw notFound("request");
    return job;
  }

  async wait(pool: string, id: string, ms: number): Promise<JobView> {
    const job = await broker(this.env, pool).waitFor(id, ms);
    if (!job) throw notFound("request");
    return job;
  }

  /** Cancels the job; a cancelled request's hold is voided at once, before the events queue would. */
  async cancel(account: AuthedAccount, id: string) {
    const { pool } = await this.owned(account, id);
    const r = await broker(this.env, pool).cancel(id);
    if (!r) throw notFound("request");
    await this.settle(r.job);
    return r;
  }

  /** Settles or voids a finished job's hold now (idempotent; the events queue does the same) and returns its cost. */
  async settle(job: JobView): Promise<{ cost: number; available: number } | null> {
    if (job.status === "QUEUED" || job.status === "PROCESSING") return null;
    const o = await billing(this.env).closeHold(job.account_id, job.id, {
      status: job.status,
      gpu_ms: job.gpu_ms,
      gpu_class: job.gpu_class,
      reason: job.error_kind,
    });
    return o ? { cost: o.charge, available: o.available } : null;
  }
}
