/**
 * Attaches the examples of src/openapi-examples.ts to a rendered OpenAPI document: parameter examples, request and
 * response body examples (each checked against the operation's zod schema; one that does not match is left out and
 * logged, so a stale example shows up as a missing one in the docs test instead of as a wrong one in the docs), an
 * example for every error response, and curl, Python (requests) and TypeScript client samples (`x-codeSamples`,
 * which Redoc shows beside each operation).
 */
import type { Operation } from "./openapi-operation.ts";
import { ERROR_EXAMPLES, EXAMPLES, type OperationExample } from "./openapi-examples.ts";
import { OPERATOR_EXAMPLES } from "./openapi-examples-operators.ts";
import { PRODUCT_EXAMPLES } from "./openapi-examples-products.ts";
import { BILLING_EXAMPLES } from "./openapi-examples-billing.ts";
import { WORKFLOW_EXAMPLES } from "./openapi-examples-workflows.ts";
import { ENDPOINT_EXAMPLES } from "./openapi-examples-endpoints.ts";
import { CLIENT_SAMPLES } from "./openapi-client-samples.ts";

type Json = Record<string, unknown>;
const AUTH_HEADER: Record<Operation["auth"], [string, string] | null> = {
  api_key: ["x-api-key", "$API_KEY"],
  admin: ["authorization", "Bearer $ADMIN_TOKEN"],
  agent: ["authorization", "Bearer $AGENT_TOKEN"],
  provider: ["x-api-key", "$PROVIDER_KEY"],
  none: null,
};

export const exampleKey = (op: Pick<Operation, "method" | "path">) => `${op.method} ${op.path}`;

export function attachExamples(op: Operation, doc: Json, serverUrl: string): void {
  const key = exampleKey(op);
  const ex =
    EXAMPLES[key] ??
    OPERATOR_EXAMPLES[key] ??
    PRODUCT_EXAMPLES[key] ??
    BILLING_EXAMPLES[key] ??
    WORKFLOW_EXAMPLES[key] ??
    ENDPOINT_EXAMPLES[key];
  if (!ex) return;
  const where = exampleKey(op);
  for (const p of (doc.parameters as Json[] | undefined) ?? []) {
    const v = ex.params?.[p.name as string];
    if (v !== undefined) p.example = v;
  }
  if (ex.request !== undefined && (!op.body || ok(where, "request", op.body.safeParse(ex.request)))) {
    const body = (doc.requestBody ??= {
      required: true,
      content: {
        "application/json": {
          schema: {
            type: "object",
            description: op.path.includes("/workflows/")
              ? "The workflow's inputs (or raw image bytes): see input_schema in GET /v1/workflows/{slug}"
              : "The model's input: see input_schema in GET /v1/models/{model}",
          },
        },
      },
    }) as { content: Record<string, Json> };
    const json = (body.content["application/json"] ??= { schema: { type: "object" } });
    json.example = ex.request;
  }
  const responses = doc.responses as Record<string, { content?: Record<string, Json> }>;
  for (const [status, value] of Object.entries(ex.responses)) {
    const declared = op.responses[Number(status)];
    const res = responses[status];
    if (!declared || !res) continue;
    if (declared.schema && !ok(where, `response ${status}`, declared.schema.safeParse(value))) continue;
    const ct = declared.content ?? "application/json";
    res.content ??= { [ct]: { schema: typeof value === "string" ? { type: "string" } : { type: "object" } } };
    const media = res.content[ct];
    if (media) media.example = value;
  }
  for (const status of op.errors ?? []) {
    const e = ERROR_EXAMPLES[status];
    const media = responses[String(status)]?.content?.["application/json"];
    if (e && media) media.example = { error: { ...e, request_id: "req_0QhZk9Tq2wLmB7cV" } };
  }
  const samples = [
    { lang: "Shell", label: "curl", source: curl(op, ex, serverUrl) },
    { lang: "Python", label: "Python (requests)", source: python(op, ex, serverUrl) },
  ];
  const ts = CLIENT_SAMPLES[where];
  if (ts) samples.push({ lang: "TypeScript", label: "TypeScript client", source: ts });
  doc["x-codeSamples"] = samples;
}

function ok(where: string, what: string, r: { success: boolean; error?: { message: string } }): boolean {
  if (!r.success)
    console.error(
      JSON.stringify({
        level: "error",
        message: `OpenAPI example for ${where} (${what}) does not match its schema`,
        error: r.error?.message,
      }),
    );
  return r.success;
}

function url(op: Operation, ex: OperationExample, serverUrl: string): string {
  const path = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => ex.params?.[name] ?? `{${name}}`);
  const q = ex.query ? `?${new URLSearchParams(ex.query)}` : "";
  return `${serverUrl}${path}${q}`;
}

function headers(op: Operation, ex: OperationExample): [string, string][] {
  const auth = AUTH_HEADER[op.auth];
  return [...(auth ? [auth] : []), ...Object.entries(ex.headers ?? {})];
}

function curl(op: Operation, ex: OperationExample, serverUrl: string): string {
  const lines = [`curl -X ${op.method.toUpperCase()} "${url(op, ex, serverUrl)}"`];
  for (const [k, v] of headers(op, ex)) lines.push(`-H "${k}: ${v}"`);
  if (ex.request !== undefined)
    lines.push(`-H "content-type: application/json"`, `-d '${JSON.stringify(ex.request).replaceAll("'", "'\\''")}'`);
  if (ex.rawBody) lines.push(`-H "content-type: ${ex.rawBody.contentType}"`, `--data-binary @${ex.rawBody.file}`);
  if (streams(op)) lines.splice(1, 0, "-N");
  else if (binary(op)) lines.push(`-o ${ex.params?.name ?? "output.png"}`);
  return lines.join(" \\\n  ");
}

function python(op: Operation, ex: OperationExample, serverUrl: string): string {
  // "$API_KEY" and "Bearer $ADMIN_TOKEN" read the secret from the environment, as the shell samples do.
  const value = (v: string) => {
    const m = v.match(/^(.*)\$([A-Z_]+)$/);
    if (!m) return JSON.stringify(v);
    return m[1] ? `${JSON.stringify(m[1])} + os.environ["${m[2]}"]` : `os.environ["${m[2]}"]`;
  };
  const hs = headers(op, ex).map(([k, v]) => `"${k}": ${value(v)}`);
  const args = [JSON.stringify(url(op, ex, serverUrl))];
  if (hs.length) args.push(`headers={${hs.join(", ")}}`);
  if (ex.request !== undefined) args.push(`json=${py(ex.request, 4)}`);
  if (ex.rawBody) args.push(`data=open("${ex.rawBody.file}", "rb")`);
  if (streams(op)) args.push("stream=True");
  const use = streams(op)
    ? 'for line in r.iter_lines(decode_unicode=True):\n    if line.startswith("data: "):\n        print(line[6:])'
    : binary(op)
      ? `open("${ex.params?.name ?? "output.png"}", "wb").write(r.content)`
      : op.responses[200]?.content === "text/html"
        ? "print(r.text)"
        : "print(r.json())";
  return [
    "import os",
    "import requests",
    "",
    `r = requests.${op.method}(`,
    ...args.map((a) => `    ${a},`),
    ...(op.path.startsWith("/v1/{") ? ["    timeout=320,"] : []),
    ")",
    "r.raise_for_status()",
    use,
  ].join("\n");
}

const streams = (op: Operation) => Object.values(op.responses).some((r) => r.content === "text/event-stream");
const binary = (op: Operation) =>
  Object.values(op.responses).some((r) => r.content && !r.schema && !/^text\//.test(r.content));

/** A JSON value as a Python literal. */
function py(v: unknown, indent: number): string {
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string" || typeof v === "number") return JSON.stringify(v);
  const pad = " ".repeat(indent + 4);
  if (Array.isArray(v))
    return v.length ? `[\n${v.map((x) => pad + py(x, indent + 4)).join(",\n")},\n${" ".repeat(indent)}]` : "[]";
  const entries = Object.entries(v as Json);
  if (!entries.length) return "{}";
  const body = entries.map(([k, x]) => `${pad}${JSON.stringify(k)}: ${py(x, indent + 4)}`).join(",\n");
  return `{\n${body},\n${" ".repeat(indent)}}`;
}
