/** Named types over the generated `paths` (src/schema.ts), so callers never spell an OpenAPI path. */
import type { paths } from "./schema.ts";

type JsonOf<R> = R extends { content: { "application/json": infer T } } ? T : never;
type Op<P extends keyof paths, M extends "get" | "post"> = NonNullable<paths[P][M]>;
type Res<P extends keyof paths, M extends "get" | "post", S extends number> =
  Op<P, M> extends { responses: infer R } ? (S extends keyof R ? JsonOf<R[S]> : never) : never;

export type RequestStatusView = Res<"/v2/requests/{id}/status", "get", 200>;
export type RequestResult = Res<"/v2/requests/{id}", "get", 200>;
export type Submitted = Res<"/v2/{model}", "post", 202>;
export type CancelResult = Res<"/v2/requests/{id}/cancel", "post", 200>;
export type RequestStatus = RequestStatusView["status"];
export type Metrics = RequestStatusView["metrics"];
export type OutputFile = NonNullable<RequestResult["output"]>[number];
export type ModelView = Res<"/v1/models/{model}", "get", 200>;
export type ModelList = Res<"/v1/models", "get", 200>;
export type AccountView = Res<"/v1/account", "get", 200>;
export type UsagePage = Res<"/v1/usage", "get", 200>;
export type DeliveryPage = Res<"/v1/webhooks/deliveries", "get", 200>;
export type WebhookDelivery = DeliveryPage["data"][number];
export type Redelivered = Res<"/v1/webhooks/deliveries/{id}/redeliver", "post", 202>;
export type WebhookSecret = Res<"/v1/webhooks/secret", "get", 200>;
export type WorkflowRun = Res<"/v2/workflow-runs/{id}", "get", 200>;
export type WorkflowRunSubmitted = Res<"/v2/workflows/{slug}", "post", 202>;
export type WorkflowRunOutput = NonNullable<WorkflowRun["outputs"]>[string];
export type ErrorEnvelope = Res<"/v2/requests/{id}", "get", 404>;
/** The platform's stable error codes. */
export type ErrorCode = ErrorEnvelope["error"]["code"];

/** What `run` returns: the sync endpoint's JSON answer, or the result it fell back to waiting for. */
export type RunResult = Pick<RequestResult, "request_id" | "status" | "output" | "output_json" | "metrics" | "cost"> & {
  output_base64?: { name: string; content_type: string; data: string }[];
};

/** A model's input: JSON fields; image fields also take raw bytes, sent as base64. */
export type ModelInput = Record<string, unknown>;
