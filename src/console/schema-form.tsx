/** @jsxImportSource hono/jsx */
/**
 * A form generated from a model's input JSON Schema (as Replicate's `cog` playground does from its OpenAPI schema):
 * `x-order` first, enums as selects, integers and numbers as number inputs with their bounds and step, booleans as
 * checkboxes, `format: image` as a file upload or a URL, objects and arrays as JSON. The server re-validates with
 * the model's zod schema; `coerce` turns the posted form back into typed JSON for it.
 */

export interface Prop {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  maxLength?: number;
  format?: string;
  description?: string;
  title?: string;
  "x-order"?: number;
}
interface ObjectSchema {
  properties?: Record<string, Prop>;
  required?: string[];
}

/** Fields the console decides itself: it always shows outputs as files, never inline base64. */
const HIDDEN = new Set(["base64"]);

export function fields(schema: unknown): [string, Prop][] {
  const s = (schema ?? {}) as ObjectSchema;
  const entries = Object.entries(s.properties ?? {}).filter(([k]) => !HIDDEN.has(k));
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e[1]["x-order"] ?? a.i) - (b.e[1]["x-order"] ?? b.i))
    .map(({ e }) => e);
}

const kind = (p: Prop) => (Array.isArray(p.type) ? p.type.find((t) => t !== "null") : p.type);
const title = (name: string, p: Prop) => p.title ?? name.replaceAll("_", " ");

function Help(p: { id: string; text: string | undefined; extra?: string }) {
  const t = [p.text, p.extra]
    .filter((x): x is string => !!x)
    .map((x) => (/[.!?]$/.test(x) ? x : `${x}.`))
    .join(" ");
  return t ? (
    <p class="help" id={p.id}>
      {t}
    </p>
  ) : null;
}

function Field(p: { name: string; prop: Prop; required: boolean }) {
  const { name, prop } = p;
  const id = `in-${name}`;
  const helpId = `${id}-help`;
  const t = kind(prop);
  const label = `${title(name, prop)}${p.required ? " (required)" : ""}`;
  if (prop.format === "image") {
    return (
      <fieldset class="field">
        <legend>{label}</legend>
        <label for={`${id}-file`}>Upload an image</label>
        <input id={`${id}-file`} name={`${name}__file`} type="file" accept="image/*" aria-describedby={helpId} />
        <label for={id}>or an image URL</label>
        <input id={id} name={name} type="url" inputmode="url" placeholder="https://…" aria-describedby={helpId} />
        <Help id={helpId} text={prop.description} />
      </fieldset>
    );
  }
  if (prop.enum) {
    return (
      <div class="field">
        <label for={id}>{label}</label>
        <select id={id} name={name} aria-describedby={helpId}>
          {p.required || prop.default !== undefined ? null : <option value="">(default)</option>}
          {prop.enum.map((v) => (
            <option value={String(v)} selected={v === prop.default}>
              {String(v)}
            </option>
          ))}
        </select>
        <Help id={helpId} text={prop.description} />
      </div>
    );
  }
  if (t === "boolean") {
    return (
      <div class="field">
        <input type="hidden" name={name} value="false" />
        <input
          id={id}
          name={name}
          type="checkbox"
          value="true"
          checked={prop.default === true}
          aria-describedby={helpId}
        />
        <label for={id}>{label}</label>
        <Help id={helpId} text={prop.description} />
      </div>
    );
  }
  if (t === "integer" || t === "number") {
    const min = prop.minimum ?? prop.exclusiveMinimum;
    const max = prop.maximum ?? prop.exclusiveMaximum;
    const step = prop.multipleOf ?? (t === "integer" ? 1 : "any");
    const bounds =
      min !== undefined && max !== undefined
        ? `From ${min} to ${max}.`
        : min !== undefined
          ? `At least ${min}.`
          : max !== undefined
            ? `At most ${max}.`
            : undefined;
    return (
      <div class="field">
        <label for={id}>{label}</label>
        <input
          id={id}
          name={name}
          type="number"
          min={min}
          max={max}
          step={step}
          value={prop.default === undefined ? "" : String(prop.default)}
          required={p.required}
          aria-describedby={helpId}
        />
        <Help id={helpId} text={prop.description} extra={bounds} />
      </div>
    );
  }
  if (t === "object" || t === "array") {
    return (
      <div class="field">
        <label for={id}>{label} (JSON)</label>
        <textarea id={id} name={`${name}__json`} aria-describedby={helpId}>
          {prop.default === undefined ? "" : JSON.stringify(prop.default)}
        </textarea>
        <Help id={helpId} text={prop.description} />
      </div>
    );
  }
  const long = (prop.maxLength ?? 0) > 200 || prop.format === "textarea";
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {long ? (
        <textarea id={id} name={name} maxlength={prop.maxLength} required={p.required} aria-describedby={helpId}>
          {typeof prop.default === "string" ? prop.default : ""}
        </textarea>
      ) : (
        <input
          id={id}
          name={name}
          type="text"
          maxlength={prop.maxLength}
          required={p.required}
          value={typeof prop.default === "string" ? prop.default : ""}
          aria-describedby={helpId}
        />
      )}
      <Help id={helpId} text={prop.description} />
    </div>
  );
}

export function SchemaFields(p: { schema: unknown }) {
  const required = new Set(((p.schema ?? {}) as ObjectSchema).required ?? []);
  return (
    <>
      {fields(p.schema).map(([name, prop]) => (
        <Field name={name} prop={prop} required={required.has(name)} />
      ))}
    </>
  );
}

type FormValue = string | File | (string | File)[];
const last = (v: FormValue | undefined) => (Array.isArray(v) ? v[v.length - 1] : v);

/**
 * The posted form as the model's JSON input. Empty fields are left out so defaults apply; numbers that do not parse
 * stay strings so the schema reports them; an uploaded image becomes bytes, as a raw image body would.
 */
export async function coerce(
  schema: unknown,
  form: Record<string, FormValue>,
): Promise<{ input: Record<string, unknown>; errors: { path: string; message: string }[] }> {
  const input: Record<string, unknown> = {};
  const errors: { path: string; message: string }[] = [];
  for (const [name, prop] of fields(schema)) {
    const t = kind(prop);
    if (prop.format === "image") {
      const file = last(form[`${name}__file`]);
      if (file instanceof File && file.size > 0) input[name] = new Uint8Array(await file.arrayBuffer());
      else {
        const url = last(form[name]);
        if (typeof url === "string" && url.trim()) input[name] = url.trim();
      }
      continue;
    }
    if (t === "object" || t === "array") {
      const raw = last(form[`${name}__json`]);
      if (typeof raw === "string" && raw.trim()) {
        try {
          input[name] = JSON.parse(raw);
        } catch {
          errors.push({ path: name, message: "not valid JSON" });
        }
      }
      continue;
    }
    const v = last(form[name]);
    if (typeof v !== "string" || v === "") continue;
    if (t === "boolean") input[name] = v === "true";
    else if ((t === "integer" || t === "number") && !prop.enum)
      input[name] = Number.isFinite(Number(v)) ? Number(v) : v;
    else input[name] = v;
  }
  return { input, errors };
}
