import { type EdgeInferenceError, RequestFailedError, WaitTimeoutError, errorFrom } from "./errors.ts";
import { requestEvents, type EventsOptions, type RequestEvent } from "./events.ts";
import { isTerminal } from "./status.ts";
import type {
  AccountView,
  CancelResult,
  DeliveryPage,
  ModelInput,
  ModelList,
  ModelView,
  Redelivered,
  RequestResult,
  RequestStatusView,
  RunResult,
  Submitted,
  UsagePage,
  WebhookSecret,
  WorkflowRun,
  WorkflowRunSubmitted,
} from "./types.ts";
import * as wf from "./workflows.ts";

export interface ClientOptions {
  apiKey: string;
  /** default http://localhost:8787 (the local start) */
  baseUrl?: string;
  /** a fetch to use instead of the global one */
  fetch?: typeof fetch;
}

export interface RunOptions {
  /** seconds the sync call waits before the platform answers 202 and the client falls back to waiting (default 60) */
  syncWaitSeconds?: number;
  /** overall limit for the fallback wait, in ms (default 10 minutes) */
  timeoutMs?: number;
  /** ask for outputs inline as base64 besides their URLs */
  base64?: boolean;
  signal?: AbortSignal;
}

export interface SubmitOptions {
  webhook?: string;
  /** a retry with the same key returns the first request instead of queueing another */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface WaitOptions {
  /** give up after this many ms with WaitTimeoutError (default 10 minutes); the request keeps running */
  timeoutMs?: number;
  /** first poll interval in ms, doubling to 2 s (default 250) */
  pollIntervalMs?: number;
  /** follow the Server-Sent Events stream instead of polling; `onEvent` sees each event */
  events?: boolean;
  onEvent?: (e: RequestEvent) => void;
  signal?: AbortSignal;
}

/** Raw bytes (a Buffer is one) become base64, which every image field accepts. */
function encodeInput(input: ModelInput): ModelInput {
  const out: ModelInput = {};
  for (const [k, v] of Object.entries(input)) {
    if (v instanceof Uint8Array) {
      let s = "";
      for (let i = 0; i < v.length; i += 0x8000) s += String.fromCharCode(...v.subarray(i, i + 0x8000));
      out[k] = btoa(s);
    } else out[k] = v;
  }
  return out;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

/** The Edge Inference API. Every method throws EdgeInferenceError (with the stable code) on an error answer. */
export class EdgeInference {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly fetcher: typeof fetch;

  constructor(opts: ClientOptions) {
    this.baseUrl = (opts.baseUrl ?? "http://localhost:8787").replace(/\/+$/, "");
    this.apiKey = opts.apiKey;
    this.fetcher = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  /** One HTTP call; JSON in and out. */
  async request<T>(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const res = await this.fetcher(this.baseUrl + path, {
      method,
      headers: {
        "x-api-key": this.apiKey,
        accept: "application/json",
        ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
    if (!res.ok) throw await errorFrom(res);
    return { status: res.status, body: (await res.json()) as T, headers: res.headers };
  }

  /**
   * Runs a model and returns its output. Calls the sync endpoint; if the model has not finished within
   * `syncWaitSeconds` the platform answers 202 and this waits for the queued request instead (nothing is lost).
   * Throws RequestFailedError when the model run fails.
   */
  async run(model: string, input: ModelInput, opts: RunOptions = {}): Promise<RunResult> {
    const body = { ...encodeInput(input), ...(opts.base64 ? { base64: true } : {}) };
    const wait = Math.max(1, Math.min(300, opts.syncWaitSeconds ?? 60));
    const res = await this.request<RunResult | RequestStatusView>("POST", `/v1/${encodeURIComponent(model)}`, {
      body,
      headers: { prefer: `wait=${wait}` },
      signal: opts.signal,
    });
    if (res.status === 200) return res.body as RunResult;
    const id = (res.body as RequestStatusView).request_id;
    const result = await this.wait(id, { timeoutMs: opts.timeoutMs, signal: opts.signal });
    if (result.status !== "COMPLETED") throw failure(result);
    return result;
  }

  /** Queues a request and returns at once with its id and URLs. */
  async submit(model: string, input: ModelInput, opts: SubmitOptions = {}): Promise<Submitted> {
    const body = { ...encodeInput(input), ...(opts.webhook ? { webhook: opts.webhook } : {}) };
    const headers: Record<string, string> = opts.idempotencyKey ? { "idempotency-key": opts.idempotencyKey } : {};
    return (
      await this.request<Submitted>("POST", `/v2/${encodeURIComponent(model)}`, { body, headers, signal: opts.signal })
    ).body;
  }

  async status(id: string, signal?: AbortSignal): Promise<RequestStatusView> {
    return (await this.request<RequestStatusView>("GET", `/v2/requests/${encodeURIComponent(id)}/status`, { signal }))
      .body;
  }

  async result(id: string, signal?: AbortSignal): Promise<RequestResult> {
    return (await this.request<RequestResult>("GET", `/v2/requests/${encodeURIComponent(id)}`, { signal })).body;
  }

  /** Cancels a request; a queued one is refunded in full. */
  async cancel(id: string): Promise<CancelResult> {
    return (await this.request<CancelResult>("POST", `/v2/requests/${encodeURIComponent(id)}/cancel`)).body;
  }

  /**
   * Resolves with the result once the request is COMPLETED, FAILED or CANCELLED (check `status`; `run` throws on
   * failure instead). Polls the status with backoff; throws WaitTimeoutError after `timeoutMs`.
   */
  async wait(id: string, opts: WaitOptions = {}): Promise<RequestResult> {
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    if (opts.events || opts.onEvent) return this.waitEvents(id, deadline, opts);
    let interval = opts.pollIntervalMs ?? 250;
    for (;;) {
      const s = await this.status(id, opts.signal);
      if (isTerminal(s.status)) return this.result(id, opts.signal);
      if (Date.now() >= deadline) throw new WaitTimeoutError(id, s);
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), opts.signal);
      interval = Math.min(2000, interval * 2);
    }
  }

  /**
   * The request's progress as it happens: queued, queue (position), started, progress (step of total), requeued, and
   * the terminal event (completed, failed or cancelled) carrying the result. Reconnects with Last-Event-ID.
   */
  events(id: string, opts: EventsOptions = {}): AsyncGenerator<RequestEvent> {
    return requestEvents(this.fetcher, this.baseUrl, this.apiKey, id, opts);
  }

  private async waitEvents(id: string, deadline: number, opts: WaitOptions): Promise<RequestResult> {
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(new Error("wait timed out")), Math.max(0, deadline - Date.now()));
    const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
    let last: { status: string } = { status: "QUEUED" };
    try {
      for await (const e of this.events(id, { signal })) {
        opts.onEvent?.(e);
        if (e.event === "started") last = { status: "PROCESSING" };
        if (e.event === "completed" || e.event === "failed" || e.event === "cancelled") return e.data;
      }
      throw new Error(`event stream for ${id} ended without a result`);
    } catch (e) {
      if (stop.signal.aborted && !opts.signal?.aborted) throw new WaitTimeoutError(id, last);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a published workflow (`slug`, `slug@3`, `slug@production`) and returns the completed run. */
  runWorkflow(ref: string, inputs: ModelInput, opts?: wf.WorkflowRunOptions): Promise<WorkflowRun> {
    return wf.runWorkflow(this, ref, encodeInput(inputs), opts);
  }
  /** Starts a workflow run and returns at once with its id, hold and URLs. */
  submitWorkflow(ref: string, inputs: ModelInput, opts?: wf.WorkflowSubmitOptions): Promise<WorkflowRunSubmitted> {
    return wf.submitWorkflow(this, ref, encodeInput(inputs), opts);
  }
  /** Resolves with the run once it ended and its cost is final; throws WaitTimeoutError after `timeoutMs`. */
  waitRun(runId: string, opts?: wf.WaitRunOptions): Promise<WorkflowRun> {
    return wf.waitRun(this, runId, opts);
  }

  models = async (): Promise<ModelList> => (await this.request<ModelList>("GET", "/v1/models")).body;
  model = async (slug: string): Promise<ModelView> =>
    (await this.request<ModelView>("GET", `/v1/models/${encodeURIComponent(slug)}`)).body;
  account = async (): Promise<AccountView> => (await this.request<AccountView>("GET", "/v1/account")).body;
  usage = async (q: { limit?: number; cursor?: string } = {}): Promise<UsagePage> =>
    (await this.request<UsagePage>("GET", `/v1/usage${query(q)}`)).body;

  readonly webhooks = {
    deliveries: async (
      q: { request_id?: string; status?: string; limit?: number; cursor?: string } = {},
    ): Promise<DeliveryPage> => (await this.request<DeliveryPage>("GET", `/v1/webhooks/deliveries${query(q)}`)).body,
    redeliver: async (deliveryId: string): Promise<Redelivered> =>
      (await this.request<Redelivered>("POST", `/v1/webhooks/deliveries/${encodeURIComponent(deliveryId)}/redeliver`))
        .body,
    secret: async (): Promise<WebhookSecret> => (await this.request<WebhookSecret>("GET", "/v1/webhooks/secret")).body,
    /** a new signing secret; for `overlapSeconds` deliveries are signed with the old one too */
    rotateSecret: async (overlapSeconds?: number): Promise<WebhookSecret> =>
      (
        await this.request<WebhookSecret>("POST", "/v1/webhooks/secret/rotate", {
          body: overlapSeconds === undefined ? {} : { overlap_seconds: overlapSeconds },
        })
      ).body,
  };
}

function query(q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

function failure(r: RequestResult): EdgeInferenceError {
  if (r.status === "CANCELLED")
    return new RequestFailedError("conflict", "request was cancelled", 409, r.request_id, "cancelled", r);
  const e = r.error;
  return new RequestFailedError(
    (e?.code ?? "internal") as never,
    e?.message ?? "request failed",
    0,
    r.request_id,
    e?.kind ?? "runtime_error",
    r,
  );
}
