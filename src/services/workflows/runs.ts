import { and, eq } from "drizzle-orm";
import { checkDefinition, inputsSchema, longestPath, type WorkflowRunView } from "../../../schemas/index.ts";
import { validate } from "../../validation.ts";
import { db } from "../../db/client.ts";
import { workflowRuns } from "../../db/schema.ts";
import type { WorkflowRun } from "../../durable-objects/workflow-run.ts";
import { runInputKey, type RunSpec } from "../../durable-objects/workflow-run-values.ts";
import type { EventRow, RunSnapshot } from "../../durable-objects/workflow-run-sql.ts";
import { ApiError, notFound } from "../../errors.ts";
import { signingSecret, type Config, type Env } from "../../env.ts";
import type { AuthedAccount } from "../auth-types.ts";
import { ledger as accountLedger, rateHeaders } from "../billing.ts";
import { newId, sha256Hex } from "../crypto.ts";
import { ID, validName } from "../files.ts";
import { resolveImage } from "../inputs.ts";
import { NodeModels } from "./models.ts";
import { uniqueViolation } from "../db-errors.ts";
import { WorkflowStore } from "./store.ts";
import { runEventStream } from "./run-events.ts";
import { mappedOutput, runView, verifyRunOutput } from "./views.ts";

/** The longest a run may take end to end, whatever its graph. */
export const MAX_RUN_DEADLINE_MS = 6 * 3600_000;
/** The run's ledger hold outlives its deadline by this much, so the hold's expiry only ever backs up the run. */
const HOLD_GRACE_MS = 5 * 60_000;

type RunApi = Pick<WorkflowRun, "start" | "onJob" | "cancel" | "snapshot" | "events" | "waitFor" | "jobOwner">;

export function runStub(env: Env, runId: string): RunApi {
  return env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(runId)) as unknown as RunApi;
}

type OutputFile = { type: "file"; body: ReadableStream; content_type: string };
/** A mapped output read back: a file's bytes, or a JSON value. */
export type RunOutputBody = OutputFile | { type: "json"; value: unknown };

export interface SubmitRun {
  mode: "sync" | "async";
  idempotencyKey?: string;
  webhook?: string;
  base: string;
}

async function bodyHash(ref: string, raw: Record<string, unknown>): Promise<string> {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) fields[k] = v instanceof Uint8Array ? { sha256: await sha256Hex(v) } : v;
  return sha256Hex(JSON.stringify([ref, fields]));
}

/**
 * Starting and reading runs. A run resolves its version first (and keeps it), validates the body against the
 * workflow's inputs as a model validates its own, stores image inputs in R2, takes one grouped hold for Σ node
 * maxima (402/429 before anything starts), records ownership in D1, and hands the rest to the run's Durable Object.
 */
export class WorkflowRunService {
  constructor(
    private env: Env,
    private cfg: Config,
  ) {}

  async submit(
    account: AuthedAccount,
    ref: string,
    body: Record<string, unknown> | Uint8Array,
    opts: SubmitRun,
  ): Promise<{ id: string; snapshot: RunSnapshot; headers: Record<string, string>; replayed: boolean }> {
    const { workflow, version, definition } = await new WorkflowStore(this.env).resolve(account, ref);
    let raw: Record<string, unknown>;
    if (body instanceof Uint8Array) {
      // A raw image body feeds the workflow's one image input, so `curl --data-binary @photo.jpg` works.
      const imageNames = Object.entries(definition.inputs)
        .filter(([, d]) => d.type === "image")
        .map(([k]) => k);
      if (imageNames.length !== 1) throw new ApiError("unsupported_media_type", `${workflow.slug} takes a JSON body`);
      raw = { [imageNames[0]!]: body };
    } else raw = { ...body };
    if (!("webhook" in definition.inputs) && raw.webhook !== undefined) {
      if (typeof raw.webhook !== "string" || !/^https?:\/\//.test(raw.webhook))
        throw new ApiError("invalid_input", "webhook must be an http(s) URL", {
          fields: [{ path: "webhook", message: "invalid URL" }],
        });
      opts = { ...opts, webhook: raw.webhook };
      delete raw.webhook;
    }
    const images = new Map<string, Uint8Array>();
    for (const [k, v] of Object.entries(raw)) if (v instanceof Uint8Array) images.set(k, v);
    const inputs = validate(inputsSchema(definition), {
      ...raw,
      ...Object.fromEntries([...images.keys()].map((k) => [k, "binary"])),
    }) as Record<string, unknown>;

    const hash = opts.idempotencyKey ? await bodyHash(`${workflow.slug}@${version}`, raw) : null;
    if (opts.idempotencyKey) {
      const prior = await db(this.env)
        .select()
        .from(workflowRuns)
        .where(and(eq(workflowRuns.accountId, account.id), eq(workflowRuns.idempotencyKey, opts.idempotencyKey)))
        .get();
      if (prior) {
        if (prior.bodyHash !== hash)
          throw new ApiError("idempotency_conflict", "Idempotency-Key was used with a different request body");
        return { id: prior.id, snapshot: await runStub(this.env, prior.id).snapshot(), headers: {}, replayed: true };
      }
    }

    const models = await NodeModels.load(this.env, account, definition);
    const { errors } = checkDefinition(definition, models.lookup);
    if (errors.length)
      throw new ApiError("unprocessable", `version ${version} of '${workflow.slug}' cannot run now`, { errors });
    const fields = models.inputIssues(definition, inputs);
    if (fields.length) throw new ApiError("invalid_input", "input failed validation", { fields });

    const id = newId("wfr");
    const imageInputs = Object.entries(definition.inputs)
      .filter(([, d]) => d.type === "image")
      .map(([k]) => k);
    const stored: string[] = [];
    for (const name of imageInputs) {
      const value = images.get(name) ?? inputs[name];
      if (value === undefined) continue;
      const img = await resolveImage(value as string | Uint8Array, name, this.cfg);
      const key = runInputKey(account.id, id, name);
      await this.env.BLOBS.put(key, img.bytes, { httpMetadata: { contentType: img.contentType } });
      stored.push(key);
      inputs[name] = key;
    }
    const cleanup = () => (stored.length ? this.env.BLOBS.delete(stored) : Promise.resolve());

    const est = models.estimate(definition, inputs);
    const jobTtl = this.cfg.JOB_TTL_S * 1000;
    const nodeMeta: RunSpec["nodes"] = {};
    for (const [nid, n] of Object.entries(definition.nodes)) {
      const m = models.models.get(n.model)!;
      nodeMeta[nid] = {
        model: n.model,
        runtime: m.definition.runtime,
        pool: m.pool,
        gpu_classes: m.view.gpu_classes,
        exec_timeout_ms: m.view.max_execution_s * 1000,
        max_cost: est.per_node[nid]!,
        input_schema: m.definition.input_schema,
        moderation: m.definition.moderation,
        ...(m.comfy ? { comfy: m.comfy } : {}),
      };
    }
    const deadline = Math.min(
      MAX_RUN_DEADLINE_MS,
      longestPath(definition, (nid) => jobTtl + nodeMeta[nid]!.exec_timeout_ms),
    );
    const ledger = accountLedger(this.env, account.id);
    const admitted = await ledger.reserveGroup(account.id, account.plan, {
      id,
      ttl_ms: deadline + HOLD_GRACE_MS,
      model_free: [...models.models.values()].every((m) => m.view.free),
      nodes: Object.keys(definition.nodes).map((nid) => ({
        node: nid,
        max: est.per_node[nid]!,
        pricing: est.pricing[nid]!,
      })),
    });
    if (!admitted.ok) {
      await cleanup();
      const headers = {
        ...rateHeaders(admitted.rate, admitted.available),
        ...(admitted.retry_after_s !== undefined ? { "Retry-After": String(admitted.retry_after_s) } : {}),
      };
      throw new ApiError(
        admitted.code,
        admitted.message,
        admitted.code === "insufficient_credits"
          ? { required: est.max_cost, available: admitted.available }
          : undefined,
        headers,
      );
    }
    try {
      await db(this.env)
        .insert(workflowRuns)
        .values({
          id,
          accountId: account.id,
          workflowId: workflow.id,
          slug: workflow.slug,
          version,
          mode: opts.mode,
          status: "QUEUED",
          idempotencyKey: opts.idempotencyKey ?? null,
          bodyHash: hash,
          webhookUrl: opts.webhook ?? null,
          baseUrl: opts.base,
          createdAt: Date.now(),
        });
    } catch (e) {
      await ledger.closeGroup(id, "void", "enqueue_failed");
      await cleanup();
      if (uniqueViolation(e))
        throw new ApiError("idempotency_conflict", "a run with this Idempotency-Key is being created");
      throw e;
    }
    const spec: RunSpec = {
      run_id: id,
      account_id: account.id,
      workflow: workflow.slug,
      version,
      definition,
      inputs,
      image_inputs: imageInputs,
      nodes: nodeMeta,
      priority: admitted.priority,
      job_ttl_ms: jobTtl,
      deadline_ms: deadline,
      webhook_url: opts.webhook ?? null,
      base_url: opts.base,
    };
    const snapshot = await runStub(this.env, id).start(spec, admitted.hold);
    return { id, snapshot, headers: rateHeaders(admitted.rate, admitted.available), replayed: false };
  }

  /** Ownership check: another account's run is reported as not found. */
  async owned(account: AuthedAccount, id: string): Promise<RunApi> {
    const row = await db(this.env)
      .select({ accountId: workflowRuns.accountId })
      .from(workflowRuns)
      .where(eq(workflowRuns.id, id))
      .get();
    if (!row || row.accountId !== account.id) throw notFound("workflow run");
    return runStub(this.env, id);
  }

  view(snapshot: RunSnapshot): Promise<WorkflowRunView> {
    return runView(snapshot, signingSecret(this.cfg), Date.now());
  }

  wait(id: string, ms: number): Promise<RunSnapshot> {
    return runStub(this.env, id).waitFor(ms);
  }

  /** The first mapped output of a completed run: its bytes, or its JSON value. */
  async firstOutput(snap: RunSnapshot): Promise<RunOutputBody | null> {
    const name = Object.keys(snap.spec.definition.outputs)[0];
    return name === undefined ? null : this.output(snap, name);
  }

  /** One mapped output of a completed run; null for anything else (intermediate files are never reachable). */
  async output(snap: RunSnapshot, name: string): Promise<RunOutputBody | null> {
    const m = mappedOutput(snap, name);
    if (!m) return null;
    if (m.type === "json") return m;
    const obj = await this.env.BLOBS.get(m.key);
    return obj ? { type: "file", body: obj.body, content_type: obj.httpMetadata?.contentType ?? m.content_type } : null;
  }

  async events(account: AuthedAccount, id: string, after: number): Promise<EventRow[]> {
    return (await this.owned(account, id)).events(after);
  }

  /** The run's events as Server-Sent Events from the event after `after` (the run's owner only). */
  async eventStream(account: AuthedAccount, id: string, after: number): Promise<ReadableStream> {
    return runEventStream(await this.owned(account, id), after);
  }

  /** A mapped file output through its signed URL: the signature names the run and the output, not an account. */
  async signedOutput(id: string, name: string, expires: number, sig: string): Promise<OutputFile> {
    // The router decoded the path once; names and ids are checked, never decoded again (issue 9, §3).
    if (!ID.test(id) || !validName(name)) throw notFound("output");
    if (!(await verifyRunOutput(signingSecret(this.cfg), id, name, expires, sig, Date.now())))
      throw new ApiError("forbidden", "missing, invalid or expired signature");
    const row = await db(this.env)
      .select({ id: workflowRuns.id })
      .from(workflowRuns)
      .where(eq(workflowRuns.id, id))
      .get();
    if (!row) throw notFound("output");
    const out = await this.output(await runStub(this.env, id).snapshot(), name);
    if (out?.type !== "file") throw notFound("output");
    return out;
  }
}
