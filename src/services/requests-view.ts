import { toBase64 } from "./crypto.ts";
import { eq } from "drizzle-orm";
import {
  JOB_ERROR_CODE,
  type GpuClass,
  type JobErrorKind,
  type OutputFile,
  type RequestResult,
  type RequestStatusView,
} from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { requests } from "../db/schema.ts";
import type { JobView } from "../durable-objects/job-broker.ts";
import { signingSecret, type Config, type Env } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { billing } from "./billing.ts";
import { DEFAULT_POOL, broker } from "./broker.ts";
import { ID, validName } from "./files.ts";
import { r2Keys, requestUrls, signOutputUrl, verifyOutputSignature } from "./urls.ts";

/** One output's bytes, as the sync answer's `output_base64` carries them. */
export interface Base64Output {
  name: string;
  content_type: string;
  data: string;
}

/**
 * What a request looks like from outside: its status and result views, its cost, its outputs (signed URLs, bytes).
 * The base of RequestService (services/requests.ts), which adds the request's lifecycle (submit, wait, cancel,
 * settle); kept apart so that each file reads as one concern.
 */
export class RequestViews {
  constructor(
    protected env: Env,
    protected cfg: Config,
  ) {}

  async cost(job: JobView): Promise<number | null> {
    if (job.status === "QUEUED" || job.status === "PROCESSING") return null;
    return billing(this.env).cost(job.account_id, job.id);
  }

  statusView(job: JobView, base: string, cost: number | null = null): RequestStatusView {
    return {
      request_id: job.id,
      model: job.model,
      status: job.status,
      queue_position: job.queue_position,
      capacity: job.capacity,
      created_at: new Date(job.created_at).toISOString(),
      started_at: job.started_at ? new Date(job.started_at).toISOString() : null,
      completed_at: job.finished_at ? new Date(job.finished_at).toISOString() : null,
      metrics: {
        gpu_ms: job.gpu_ms,
        load_ms: job.load_ms,
        gpu_class: job.gpu_class as GpuClass | null,
        queue_ms: job.started_at ? job.started_at - job.created_at : null,
        busy_gpu_ms: job.busy_gpu_ms,
        attempts: job.attempt,
      },
      cost,
      error: job.error_kind
        ? { kind: job.error_kind, code: JOB_ERROR_CODE[job.error_kind], message: job.error_message ?? "" }
        : null,
      ...requestUrls(base, job.id),
    };
  }

  async outputs(job: JobView, base: string): Promise<OutputFile[] | null> {
    if (!job.outputs) return null;
    const secret = signingSecret(this.cfg);
    const now = Date.now();
    return Promise.all(
      job.outputs.map(async (o) => ({ ...o, ...(await signOutputUrl(secret, base, job.id, o.name, now)) })),
    );
  }

  async resultView(job: JobView, base: string): Promise<RequestResult> {
    return {
      ...this.statusView(job, base, await this.cost(job)),
      output: await this.outputs(job, base),
      output_json: job.output_json ?? null,
    };
  }

  /** The error a failed or cancelled job answers a sync caller with. */
  static failure(job: JobView, headers?: Record<string, string>): ApiError {
    if (job.status === "CANCELLED")
      return new ApiError("conflict", "request was cancelled", { request_id: job.id }, headers);
    const kind = (job.error_kind ?? "runtime_error") as JobErrorKind;
    return new ApiError(JOB_ERROR_CODE[kind], job.error_message ?? kind, { request_id: job.id, kind }, headers);
  }

  async readOutput(accountId: string, id: string, name: string): Promise<R2ObjectBody | null> {
    return this.env.BLOBS.get(r2Keys.output(accountId, id, name));
  }

  /** Every output of a finished job as base64 (the sync answer with `base64: true`). */
  outputsBase64(job: JobView): Promise<Base64Output[]> {
    return Promise.all(
      (job.outputs ?? []).map(async (o) => {
        const obj = await this.readOutput(job.account_id, job.id, o.name);
        if (!obj) throw new ApiError("internal", `output ${o.name} is missing`);
        return { name: o.name, content_type: o.content_type, data: toBase64(new Uint8Array(await obj.arrayBuffer())) };
      }),
    );
  }

  /** A completed job's first output, which a sync call answers with as bytes. */
  async firstOutput(job: JobView): Promise<{ content_type: string; obj: R2ObjectBody }> {
    const first = job.outputs?.[0];
    const obj = first ? await this.readOutput(job.account_id, job.id, first.name) : null;
    if (!first || !obj) throw new ApiError("internal", "the job completed without an output");
    return { content_type: first.content_type, obj };
  }

  /**
   * One output through its signed URL (no API key). `id` and `name` are the router's decoded segments; decoding again
   * would let %252F become "/". Anything outside the id and name alphabets cannot name an output, so it is 404, never
   * a decoding error; the signature is checked before any binding is read.
   */
  async signedOutput(id: string, name: string, q: { expires?: string; sig?: string }): Promise<R2ObjectBody> {
    if (!ID.test(id) || !validName(name)) throw notFound("output");
    const secret = signingSecret(this.cfg);
    if (!(await verifyOutputSignature(secret, id, name, Number(q.expires), q.sig ?? "", Date.now())))
      throw new ApiError("forbidden", "missing, invalid or expired signature");
    // The job in the broker names the owner even before the events queue has written the D1 row.
    const job = await broker(this.env, DEFAULT_POOL).get(id);
    const row = job
      ? { accountId: job.account_id }
      : await db(this.env).select({ accountId: requests.accountId }).from(requests).where(eq(requests.id, id)).get();
    if (!row) throw notFound("output");
    const obj = await this.readOutput(row.accountId, id, name);
    if (!obj) throw notFound("output");
    return obj;
  }
}
