import type { z } from "zod";

/** One documented operation as a route declares it: src/openapi.ts renders it, src/openapi-samples.ts adds examples. */
export interface Operation {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI-style path: /v2/requests/{id} */
  path: string;
  summary: string;
  tag:
    | "Inference"
    | "Requests"
    | "Models"
    | "Account"
    | "Webhooks"
    | "Admin"
    | "Agent"
    | "System"
    | "Workflows"
    | "Billing"
    | "Provider"
    | "Endpoints";
  /** `provider`: a provider key (pk_…), sent as an API key is; the provider's own earnings and statements */
  auth: "api_key" | "admin" | "agent" | "provider" | "none";
  body?: z.ZodType;
  /** query parameters: an object schema whose properties are rendered as `in: query` parameters */
  query?: z.ZodType;
  bodyContent?: Record<string, { schema: Record<string, unknown> }>;
  responses: Record<number, { description: string; schema?: z.ZodType; content?: string }>;
  errors?: number[];
  /** largest accepted body in bytes; every route has one (default LIMITS.json) */
  maxBody?: number;
}
