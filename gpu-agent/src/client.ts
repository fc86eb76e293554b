import type { z } from "zod";
import {
  DeregisterResponse,
  ErrorEnvelope,
  HeartbeatResponse,
  JobAck,
  LeaseResponse,
  RegisterResponse,
  UploadResponse,
  type CompleteRequest,
  type FailRequest,
  type HeartbeatRequest,
  type LeaseRequest,
  type RegisterRequest,
  type ReleaseRequest,
} from "../../schemas/index.ts";

/** Expected outcomes come back as values; only programming errors throw. */
export type Result<T> =
  | { ok: true; value: T }
  | { ok: false; kind: "http"; status: number; code: string; message: string }
  | { ok: false; kind: "network"; message: string };

/** One method per agent endpoint; every reply is parsed with the shared schema before it is used. */
export class AgentClient {
  private base: string;
  private token: string;
  agentId: string;
  constructor(baseUrl: string, token: string, agentId = "") {
    this.base = baseUrl.replace(/\/$/, "");
    this.token = token;
    this.agentId = agentId;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, ...(this.agentId ? { "x-agent-id": this.agentId } : {}), ...extra };
  }

  private async call<T>(
    method: string,
    path: string,
    schema: z.ZodType<T> | null,
    body?: unknown,
    signal?: AbortSignal,
    timeoutMs = 30_000,
  ): Promise<Result<T | null>> {
    let res: Response;
    try {
      const timeout = AbortSignal.timeout(timeoutMs);
      res = await fetch(this.base + path, {
        method,
        headers: this.headers(body !== undefined ? { "content-type": "application/json" } : {}),
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      return { ok: false, kind: "network", message: String(e) };
    }
    return this.read(res, schema);
  }

  private async read<T>(res: Response, schema: z.ZodType<T> | null): Promise<Result<T | null>> {
    if (res.status === 204) return { ok: true, value: null };
    const text = await res.text().catch(() => "");
    if (!res.ok) {
      const env = ErrorEnvelope.safeParse(safeJson(text));
      return {
        ok: false,
        kind: "http",
        status: res.status,
        code: env.success ? env.data.error.code : "unknown",
        message: env.success ? env.data.error.message : text.slice(0, 200),
      };
    }
    if (!schema) return { ok: true, value: null };
    const parsed = schema.safeParse(safeJson(text));
    if (!parsed.success)
      return { ok: false, kind: "http", status: res.status, code: "bad_reply", message: parsed.error.message };
    return { ok: true, value: parsed.data };
  }

  register(body: RegisterRequest) {
    return this.call("POST", "/agent/v1/register", RegisterResponse, body) as Promise<Result<RegisterResponse>>;
  }

  lease(body: Omit<LeaseRequest, "agent_id">, signal?: AbortSignal) {
    const wait = body.wait_ms ?? 20_000;
    return this.call(
      "POST",
      "/agent/v1/lease",
      LeaseResponse,
      { ...body, agent_id: this.agentId },
      signal,
      wait + 15_000,
    ) as Promise<Result<LeaseResponse | null>>;
  }

  deregister() {
    return this.call(
      "POST",
      "/agent/v1/deregister",
      DeregisterResponse,
      { agent_id: this.agentId },
      undefined,
      10_000,
    ) as Promise<Result<DeregisterResponse>>;
  }

  heartbeat(leases: HeartbeatRequest["leases"], dedicated = false) {
    const body = { agent_id: this.agentId, leases, ...(dedicated ? { dedicated } : {}) };
    return this.call("POST", "/agent/v1/heartbeat", HeartbeatResponse, body, undefined, 10_000) as Promise<
      Result<HeartbeatResponse>
    >;
  }

  /** The assigned endpoint's model is loaded: the platform starts the instance's billed session. */
  dedicatedReady(endpointId: string, epoch: number) {
    return this.call("POST", "/agent/v1/dedicated/ready", null, {
      agent_id: this.agentId,
      endpoint_id: endpointId,
      epoch,
    });
  }

  async input(path: string, leaseId: string): Promise<Result<{ bytes: Uint8Array; contentType: string }>> {
    try {
      const res = await fetch(this.base + path, {
        headers: this.headers({ "x-lease-id": leaseId }),
        signal: AbortSignal.timeout(60_000),
      });
      if (!res.ok) return (await this.read(res, null)) as Result<never>;
      return {
        ok: true,
        value: {
          bytes: new Uint8Array(await res.arrayBuffer()),
          contentType: res.headers.get("content-type") ?? "application/octet-stream",
        },
      };
    } catch (e) {
      return { ok: false, kind: "network", message: String(e) };
    }
  }

  async upload(jobId: string, leaseId: string, name: string, contentType: string, bytes: Uint8Array) {
    try {
      const res = await fetch(`${this.base}/agent/v1/jobs/${jobId}/outputs/${encodeURIComponent(name)}`, {
        method: "PUT",
        headers: this.headers({ "x-lease-id": leaseId, "content-type": contentType }),
        body: bytes as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(120_000),
      });
      return (await this.read(res, UploadResponse)) as Result<UploadResponse>;
    } catch (e) {
      return { ok: false, kind: "network", message: String(e) } as const;
    }
  }

  complete(jobId: string, body: CompleteRequest) {
    return this.call("POST", `/agent/v1/jobs/${jobId}/complete`, JobAck, body) as Promise<Result<JobAck>>;
  }

  fail(jobId: string, body: FailRequest) {
    return this.call("POST", `/agent/v1/jobs/${jobId}/fail`, JobAck, body) as Promise<Result<JobAck>>;
  }

  release(jobId: string, body: ReleaseRequest) {
    return this.call("POST", `/agent/v1/jobs/${jobId}/release`, JobAck, body) as Promise<Result<JobAck>>;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
