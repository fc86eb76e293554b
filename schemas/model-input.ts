import { Validator, type OutputUnit } from "@cfworker/json-schema";

/**
 * The one validator of model inputs, pure (no Workers or Node modules) so that the request path, the workflow
 * checker (schemas/workflow-check.ts) and a run's node preparation all judge an input the same way. It uses
 * @cfworker/json-schema, which interprets the schema, so it runs where `new Function` is refused, unlike ajv.
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
  /** dotted path of the failing field ("" for the body as a whole) */
  path: string;
  message: string;
  code: string;
  /** the same path as segments, for callers that build JSON pointers */
  segments: string[];
  /** where in the schema the rule that failed lies (e.g. `#/anyOf/0/required`) */
  rule: string;
}

/** Keywords whose error only says that a nested value failed; the nested error names it. */
const WRAPPERS = new Set(["properties", "additionalProperties", "items", "prefixItems"]);
const decode = (s: string) => s.replace(/~1/g, "/").replace(/~0/g, "~");

/** One issue per failing field: the wrappers that only say "a property failed" are left out. */
export function fieldIssues(errors: OutputUnit[]): FieldIssue[] {
  const out = new Map<string, FieldIssue>();
  for (const e of errors) {
    const at = e.instanceLocation.replace(/^#\/?/, "").split("/").filter(Boolean).map(decode);
    let issue: FieldIssue | null = null;
    if (e.keyword === "required") {
      const field = /"(.+)"/.exec(e.error)?.[1] ?? "";
      const segments = [...at, field];
      issue = { path: segments.join("."), message: "required", code: "required", segments, rule: e.keywordLocation };
    } else if (e.keyword === "false") {
      const rule = e.keywordLocation;
      issue = { path: at.join("."), message: "unrecognized field", code: "unrecognized_keys", segments: at, rule };
    } else if (WRAPPERS.has(e.keyword)) {
      continue;
    } else {
      issue = { path: at.join("."), message: e.error, code: e.keyword, segments: at, rule: e.keywordLocation };
    }
    if (!out.has(issue.path)) out.set(issue.path, issue);
  }
  return [...out.values()];
}

export type ModelInputResult = { ok: true; input: Record<string, unknown> } | { ok: false; issues: FieldIssue[] };

/** The validated input with the schema's top-level defaults filled in, or every failing field. */
export function checkModelInput(schema: Record<string, unknown>, raw: Record<string, unknown>): ModelInputResult {
  const r = validator(schema).validate(raw);
  if (!r.valid) return { ok: false, issues: fieldIssues(r.errors) };
  const input: Record<string, unknown> = { ...raw };
  const props = (schema.properties ?? {}) as Record<string, { default?: unknown }>;
  for (const [k, p] of Object.entries(props)) {
    if (input[k] === undefined && p && "default" in p) input[k] = structuredClone(p.default);
  }
  return { ok: true, input };
}
