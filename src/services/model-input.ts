import { Validator, type OutputUnit } from "@cfworker/json-schema";
import { invalidFields } from "../errors.ts";

/**
 * Validates a request body against a model's JSON Schema with @cfworker/json-schema (it interprets the schema, so
 * it runs where `new Function` is refused, unlike ajv), then fills the schema's defaults the way the zod schemas
 * before it did. Failures are the usual `invalid_input` envelope with one entry per failing field.
 */
const validators = new WeakMap<object, Validator>();

function validator(schema: Record<string, unknown>): Validator {
  let v = validators.get(schema);
  if (!v) {
    v = new Validator(schema as never, "2020-12", false);
    validators.set(schema, v);
  }
  return v;
}

export interface FieldIssue {
  path: string;
  message: string;
  code: string;
}

/** Keywords whose error only says that a nested value failed; the nested error names it. */
const WRAPPERS = new Set(["properties", "additionalProperties", "items", "prefixItems"]);
const decode = (s: string) => s.replace(/~1/g, "/").replace(/~0/g, "~");

/** One issue per failing field: the wrappers that only say "a property failed" are left out. */
export function fieldIssues(errors: OutputUnit[]): FieldIssue[] {
  const out = new Map<string, FieldIssue>();
  for (const e of errors) {
    const path = e.instanceLocation.replace(/^#\/?/, "").split("/").filter(Boolean).map(decode).join(".");
    let issue: FieldIssue | null = null;
    if (e.keyword === "required") {
      const field = /"(.+)"/.exec(e.error)?.[1] ?? "";
      issue = { path: path ? `${path}.${field}` : field, message: "required", code: "required" };
    } else if (e.keyword === "false") {
      issue = { path, message: "unrecognized field", code: "unrecognized_keys" };
    } else if (WRAPPERS.has(e.keyword)) {
      continue;
    } else {
      issue = { path, message: e.error, code: e.keyword };
    }
    if (!out.has(issue.path)) out.set(issue.path, issue);
  }
  return [...out.values()];
}

/** The validated input with defaults applied, or `invalid_input` with the failing fields. */
export function validateModelInput(
  schema: Record<string, unknown>,
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const r = validator(schema).validate(raw);
  if (!r.valid) throw invalidFields(fieldIssues(r.errors));
  const input: Record<string, unknown> = { ...raw };
  const props = (schema.properties ?? {}) as Record<string, { default?: unknown }>;
  for (const [k, p] of Object.entries(props)) {
    if (input[k] === undefined && p && "default" in p) input[k] = structuredClone(p.default);
  }
  return input;
}
