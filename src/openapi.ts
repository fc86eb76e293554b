import { z } from "zod";
import { ErrorEnvelope } from "../schemas/index.ts";
import type { Operation } from "./openapi-operation.ts";
import { attachExamples } from "./openapi-samples.ts";

export type { Operation } from "./openapi-operation.ts";

const SECURITY_SCHEME = {
  api_key: "ApiKey",
  admin: "AdminToken",
  agent: "AgentToken",
  provider: "ProviderKey",
} as const;

type JsonProp = { description?: string; examples?: unknown[]; default?: unknown; enum?: unknown[] };
type JsonObject = { properties?: Record<string, JsonProp>; required?: string[] };

/** A zod schema as JSON Schema; also for the `bodyContent` of a route that reads its body by hand. */
export const toSchema = (s: z.ZodType, io: "input" | "output") =>
  z.toJSONSchema(s, { target: "draft-2020-12", io, unrepresentable: "any" });

/** Collects operations as routes are mounted and renders an OpenAPI 3.1 document from their zod schemas. */
export class OpenApiRegistry {
  readonly operations: Operation[] = [];
  add(op: Operation): void {
    this.operations.push(op);
  }

  document(serverUrl: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const errorSchema = toSchema(ErrorEnvelope, "output");
    for (const op of this.operations) {
      const params = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => ({
        name: m[1],
        in: "path",
        required: true,
        schema: { type: "string" },
      }));
      const query = op.query ? (toSchema(op.query, "input") as JsonObject) : null;
      for (const [name, schema] of Object.entries(query?.properties ?? {})) {
        const example = schema.examples?.[0] ?? schema.default ?? schema.enum?.[0];
        params.push({
          name,
          in: "query",
          required: (query?.required ?? []).includes(name),
          schema: schema as { type: string },
          ...(schema.description ? { description: schema.description } : {}),
          ...(example !== undefined ? { example } : {}),
        } as (typeof params)[number]);
      }
      const responses: Record<string, unknown> = {};
      for (const [status, r] of Object.entries(op.responses)) {
        responses[status] = {
          description: r.description,
          ...(r.schema
            ? { content: { [r.content ?? "application/json"]: { schema: toSchema(r.schema, "output") } } }
            : r.content
              ? { content: { [r.content]: { schema: { type: "string", format: "binary" } } } }
              : {}),
        };
      }
      for (const status of op.errors ?? []) {
        responses[String(status)] = { description: "error", content: { "application/json": { schema: errorSchema } } };
      }
      const security = op.auth === "none" ? [] : [{ [SECURITY_SCHEME[op.auth]]: [] }];
      const requestBody = op.body
        ? {
            required: true,
            content: { "application/json": { schema: toSchema(op.body, "input") }, ...(op.bodyContent ?? {}) },
          }
        : op.bodyContent
          ? { required: true, content: op.bodyContent }
          : undefined;
      const operation: Record<string, unknown> = {
        summary: op.summary,
        tags: [op.tag],
        operationId: `${op.method}_${op.path
          .replace(/[{}]/g, "")
          .replace(/[^a-zA-Z0-9]+/g, "_")
          .replace(/^_|_$/g, "")}`,
        ...(params.length ? { parameters: params } : {}),
        ...(requestBody ? { requestBody } : {}),
        responses,
        security,
      };
      attachExamples(op, operation, serverUrl);
      (paths[op.path] ??= {})[op.method] = operation;
    }
    return {
      openapi: "3.1.0",
      info: {
        title: "Edge Inference API",
        version: "1.0.0",
        description: "Serverless inference for generative image and video models.",
      },
      servers: [{ url: serverUrl }],
      components: {
        securitySchemes: {
          ApiKey: { type: "apiKey", in: "header", name: "x-api-key", description: "Or `Authorization: Bearer <key>`" },
          AdminToken: { type: "http", scheme: "bearer" },
          AgentToken: { type: "http", scheme: "bearer" },
          ProviderKey: {
            type: "apiKey",
            in: "header",
            name: "x-api-key",
            description: "A provider key (`pk_…`); or `Authorization: Bearer <key>`",
          },
        },
      },
      paths,
    };
  }
}
