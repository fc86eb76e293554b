import { checkModelInput, type FieldIssue } from "./model-input.ts";
import {
  classify,
  dependencies,
  hasNestedRef,
  inputSchema,
  MAX_NODES,
  INPUT_NAME,
  NODE_ID,
  parseRef,
  topoOrder,
  WorkflowDefinition,
  type DefinitionError,
  type DefinitionErrorCode,
  type ModelLookup,
  type WorkflowInput,
} from "./workflow.ts";

/**
 * The save-time checker of workflow definitions (the format itself is in workflow.ts). Pure: zod, and the model-input
 * validator the request path uses (schemas/model-input.ts).
 */

const esc = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");
export const pointer = (...parts: (string | number)[]) => `/${parts.map((p) => esc(String(p))).join("/")}`;

type FieldType = "image" | "string" | "number" | "integer" | "boolean" | "json" | "unknown";

interface JsonProp {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  anyOf?: JsonProp[];
  oneOf?: JsonProp[];
}

function fieldType(p: JsonProp | undefined): FieldType {
  if (!p) return "unknown";
  if (p.format === "image") return "image";
  const t = Array.isArray(p.type) ? p.type[0] : p.type;
  if (t === "string" || t === "number" || t === "integer" || t === "boolean") return t;
  if (p.enum?.every((x) => typeof x === "string")) return "string";
  // a choice among string forms (a colour or a gradient) is a string
  const branches = p.anyOf ?? p.oneOf;
  if (branches?.length && branches.every((b) => b.type === "string" && b.format !== "image")) return "string";
  return "unknown";
}

/** Whether a value of type `from` may flow into a field of type `to`. */
function fits(from: FieldType, to: FieldType): boolean {
  if (from === "unknown" || to === "unknown") return true;
  if (from === "json") return to !== "image";
  // A text value may go into an image field (a URL, or a colour where a model's image field also takes one, as a
  // composite's background does); a file never goes into a text field.
  if (to === "image") return from === "image" || from === "string";
  if (from === "image") return false;
  if (to === "number") return from === "number" || from === "integer";
  return from === to;
}

function propsOf(schema: Record<string, unknown>): Record<string, JsonProp> {
  const p = schema.properties;
  return p && typeof p === "object" ? (p as Record<string, JsonProp>) : {};
}

/** A branch of anyOf/oneOf/not: it explains its combinator's failure rather than failing on its own. */
const IN_BRANCH = /\/(?:anyOf|oneOf|not)\//;

/**
 * The validator's issues as definition errors: none for the ref'd fields (nor for extra fields, reported once
 * already), and a failed branch folded into its combinator's message ("matches none of: required width; ...").
 */
function nodeInputErrors(issues: FieldIssue[], refFields: Set<string>): { message: string; segments: string[] }[] {
  const relevant = issues.filter((i) => i.code !== "unrecognized_keys" && !refFields.has(i.segments[0] ?? ""));
  const out: { message: string; segments: string[] }[] = [];
  for (const i of relevant) {
    if (IN_BRANCH.test(i.rule)) continue;
    const branches = relevant
      .filter((b) => b.rule.startsWith(`${i.rule}/`))
      .map((b) => `${b.path ? `${b.path} ` : ""}${b.message}`);
    const message = `${i.path ? `${i.path}: ` : ""}${i.message}${branches.length ? ` (${branches.join("; ")})` : ""}`;
    out.push({ message, segments: i.segments });
  }
  return out;
}

function inputType(d: WorkflowInput): FieldType {
  return d.type === "enum" ? "string" : d.type;
}

/**
 * Checks a definition and returns every problem found, each with a JSON pointer into the definition. An empty
 * list means the definition can be published. The parsed definition is returned when its shape is valid.
 */
export function checkDefinition(
  raw: unknown,
  models: ModelLookup,
): { errors: DefinitionError[]; definition: WorkflowDefinition | null } {
  const parsed = WorkflowDefinition.safeParse(raw);
  if (!parsed.success) {
    return {
      definition: null,
      errors: parsed.error.issues.map((i) => ({
        pointer: pointer(...(i.path as (string | number)[])),
        code: "invalid_format" as const,
        message: i.message,
      })),
    };
  }
  const def = parsed.data;
  const errors: DefinitionError[] = [];
  const err = (code: DefinitionErrorCode, message: string, ...path: (string | number)[]) =>
    errors.push({ pointer: pointer(...path), code, message });
  const ids = Object.keys(def.nodes);

  if (ids.length === 0) err("no_nodes", "a workflow needs at least one node", "nodes");
  if (ids.length > MAX_NODES)
    err("too_many_nodes", `a workflow has at most ${MAX_NODES} nodes; this one has ${ids.length}`, "nodes");
  if (Object.keys(def.outputs).length === 0) err("no_outputs", "a workflow needs at least one output", "outputs");
  for (const id of ids)
    if (!NODE_ID.test(id)) err("invalid_node_id", `node id '${id}' must match ${NODE_ID.source}`, "nodes", id);
  for (const name of Object.keys(def.inputs))
    if (!INPUT_NAME.test(name))
      err("invalid_name", `input name '${name}' must match ${INPUT_NAME.source}`, "inputs", name);
  for (const name of Object.keys(def.outputs))
    if (!INPUT_NAME.test(name))
      err("invalid_name", `output name '${name}' must match ${INPUT_NAME.source}`, "outputs", name);

  for (const [name, d] of Object.entries(def.inputs)) {
    if (!("default" in d) || d.default === undefined) continue;
    const r = inputSchema(d).safeParse(d.default);
    if (!r.success)
      err(
        "invalid_default",
        `default does not fit the input: ${r.error.issues[0]!.message}`,
        "inputs",
        name,
        "default",
      );
  }

  /** The type a ref yields, or null (with an error recorded) when it does not resolve. */
  const resolve = (ref: string, at: (string | number)[]): FieldType | null => {
    const p = parseRef(ref);
    if (!p) {
      err(
        "invalid_ref",
        `'${ref}' is not a ref: use inputs.<name>, nodes.<id>.output, nodes.<id>.outputs.<n> or nodes.<id>.json[.<path>]`,
        ...at,
      );
      return null;
    }
    if (p.kind === "input") {
      const d = def.inputs[p.name];
      if (!d) err("unresolved_ref", `no input named '${p.name}'`, ...at);
      return d ? inputType(d) : null;
    }
    const n = def.nodes[p.node];
    if (!n) {
      err("unresolved_ref", `no node named '${p.node}'`, ...at);
      return null;
    }
    const m = models(n.model);
    if (!m) return "unknown";
    if (p.kind === "json") {
      if (m.output_type !== "json")
        err("type_mismatch", `node '${p.node}' (${n.model}) returns a file, not JSON`, ...at);
      return "json";
    }
    if (m.output_type === "json") err("type_mismatch", `node '${p.node}' (${n.model}) returns JSON, not a file`, ...at);
    return m.output_type === "video" ? "unknown" : "image";
  };

  for (const id of ids) {
    const node = def.nodes[id]!;
    const model = models(node.model);
    if (!model) err("unknown_model", `no model '${node.model}' in the catalog`, "nodes", id, "model");
    else if (!model.allowed)
      err("model_not_allowed", model.reason ?? `this account may not use '${node.model}'`, "nodes", id, "model");
    const props = model ? propsOf(model.input_schema) : {};
    // A schema that allows no extra fields (every manifest's `additionalProperties: false`) names all of them.
    const closed = model?.input_schema.additionalProperties === false;
    const literal: Record<string, unknown> = {};
    const refFields = new Set<string>();
    for (const [field, v] of Object.entries(node.input)) {
      const at = ["nodes", id, "input", field];
      if (closed && !(field in props)) err("unknown_field", `${node.model} has no input '${field}'`, ...at);
      const c = classify(v);
      if (c.kind === "literal") {
        if (hasNestedRef(v)) {
          err("invalid_ref", "a $ref or $template must be the whole value of an input field", ...at);
          refFields.add(field);
        } else literal[field] = v;
        continue;
      }
      refFields.add(field);
      const target = fieldType(props[field]);
      if (c.kind === "ref") {
        const t = resolve(c.ref, at);
        if (t && model && !fits(t, target))
          err(
            "type_mismatch",
            `'${c.ref}' is ${t === "image" ? "a file" : `of type ${t}`} but ${node.model}.${field} takes ${target}`,
            ...at,
          );
      } else {
        for (const r of c.refs) {
          const t = resolve(r, at);
          if (t === "image") err("type_mismatch", `'{${r}}' is a file and cannot be put inside text`, ...at);
        }
        if (model && !fits("string", target))
          err("type_mismatch", `a $template makes text but ${node.model}.${field} takes ${target}`, ...at);
      }
    }
    if (model) {
      // Ref'd fields are checked by type above; the literal fields go through the model's own schema, with the
      // validator the request path uses. A ref'd field stands in as null, so rules over the whole body (anyOf:
      // width or height) see it present; whatever is said about the stand-in itself is ignored.
      const body = { ...literal, ...Object.fromEntries([...refFields].map((f) => [f, null])) };
      const r = checkModelInput(model.input_schema, body);
      if (!r.ok) {
        for (const e of nodeInputErrors(r.issues, refFields)) {
          err("invalid_node_input", e.message, "nodes", id, "input", ...e.segments);
        }
      }
    }
  }

  for (const [name, o] of Object.entries(def.outputs)) resolve(o.$ref, ["outputs", name, "$ref"]);

  const { cyclic } = topoOrder(def);
  if (cyclic.length > 0) {
    const deps = (id: string) => dependencies(def.nodes[id]!).filter((d) => d in def.nodes);
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
      deps(from).some((d) => d === to || (!seen.has(d) && (seen.add(d), reaches(d, to, seen))));
    for (const id of cyclic)
      if (reaches(id, id)) err("cycle", `node '${id}' depends on itself through ${deps(id).join(", ")}`, "nodes", id);
  }
  return { errors, definition: def };
}
