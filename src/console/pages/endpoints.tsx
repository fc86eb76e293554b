/** @jsxImportSource hono/jsx */
import type { EndpointView, ModelView } from "../../../schemas/index.ts";
import { usd } from "../format.ts";
import { Csrf, Layout } from "../layout.tsx";
import type { ConsoleSession } from "../services/session.ts";

export type Message = { kind: "ok" | "error"; text: string };
/** What the create form held, echoed back with the service's per-field errors. */
export interface CreateForm {
  values: Record<string, string>;
  errors: Record<string, string>;
}

export const GPU_CLASSES = ["cpu", "A40", "L40S", "A100-40", "A100-80", "H100", "other"] as const;

export function Flash(p: { message: Message }) {
  const error = p.message.kind === "error";
  return (
    <p class={error ? "error" : "notice"} role={error ? "alert" : "status"}>
      {p.message.text}
    </p>
  );
}

export const perHour = (micro: number) => `${usd(micro, 2)}/h`;

function Field(p: { id: string; label: string; form: CreateForm; help?: string; children: unknown }) {
  const err = p.form.errors[p.id];
  return (
    <div>
      <label for={`ep-${p.id}`}>{p.label}</label>
      {p.children}
      {p.help ? <p class="help">{p.help}</p> : null}
      {err ? (
        <p class="error" id={`ep-${p.id}-error`} data-field-error={p.id}>
          {err}
        </p>
      ) : null}
    </div>
  );
}

function Num(p: { id: string; form: CreateForm; min: number; max: number; value: string }) {
  return (
    <input
      id={`ep-${p.id}`}
      name={p.id}
      type="number"
      min={String(p.min)}
      max={String(p.max)}
      step="1"
      value={p.form.values[p.id] ?? p.value}
      aria-invalid={p.form.errors[p.id] ? "true" : undefined}
      aria-describedby={p.form.errors[p.id] ? `ep-${p.id}-error` : undefined}
    />
  );
}

function CreateEndpointForm(p: { session: ConsoleSession; models: ModelView[]; form: CreateForm }) {
  const v = p.form.values;
  return (
    <form method="post" action="/console/endpoints" class="inline" id="create-endpoint">
      <Csrf session={p.session} />
      <Field id="name" label="Name" form={p.form}>
        <input
          id="ep-name"
          name="name"
          type="text"
          required
          maxlength={63}
          pattern="[a-z0-9][a-z0-9\-]{0,62}"
          value={v.name ?? ""}
          aria-invalid={p.form.errors.name ? "true" : undefined}
        />
      </Field>
      <Field id="model" label="Model" form={p.form}>
        <select id="ep-model" name="model">
          {p.models.map((m) => (
            <option value={m.slug} selected={v.model === m.slug}>
              {m.name} ({m.gpu_classes.join(", ")})
            </option>
          ))}
        </select>
      </Field>
      <Field id="gpu_class" label="GPU class" form={p.form}>
        <select id="ep-gpu_class" name="gpu_class">
          {GPU_CLASSES.map((g) => (
            <option value={g} selected={(v.gpu_class ?? "cpu") === g}>
              {g}
            </option>
          ))}
        </select>
      </Field>
      <Field id="min_instances" label="Min instances" form={p.form}>
        <Num id="min_instances" form={p.form} min={0} max={10} value="0" />
      </Field>
      <Field id="max_instances" label="Max instances" form={p.form}>
        <Num id="max_instances" form={p.form} min={1} max={10} value="1" />
      </Field>
      <Field id="idle_timeout_s" label="Idle timeout (s)" form={p.form}>
        <Num id="idle_timeout_s" form={p.form} min={5} max={86400} value="300" />
      </Field>
      <Field id="max_hourly_spend" label="Max hourly spend (USD, optional)" form={p.form}>
        <input
          id="ep-max_hourly_spend"
          name="max_hourly_spend"
          type="text"
          inputmode="decimal"
          value={v.max_hourly_spend ?? ""}
          aria-invalid={p.form.errors.max_hourly_spend ? "true" : undefined}
        />
      </Field>
      <button type="submit">Create endpoint</button>
    </form>
  );
}

export function EndpointsPage(p: {
  session: ConsoleSession;
  endpoints: EndpointView[];
  models: ModelView[];
  form?: CreateForm;
  message?: Message;
}) {
  return (
    <Layout title="Dedicated endpoints" active="endpoints" session={p.session}>
      <h1>Dedicated endpoints</h1>
      {p.message ? <Flash message={p.message} /> : null}
      <p class="help">
        Private instances of one model on one GPU class, billed per instance-second while ready (60 s minimum per
        session) at the price shown when you create it. Instances above the minimum are released after the idle timeout;
        with a minimum of 0 the endpoint scales to zero.
      </p>
      <div class="table-wrap" tabindex={0} role="region" aria-label="Endpoints">
        <table id="endpoints">
          <thead>
            <tr>
              <th>Name</th>
              <th>State</th>
              <th>Model</th>
              <th>GPU class</th>
              <th>Instances</th>
              <th>Spend rate</th>
              <th>Price per instance</th>
            </tr>
          </thead>
          <tbody>
            {p.endpoints.length === 0 ? (
              <tr>
                <td colspan={7}>No endpoints yet. Create one below.</td>
              </tr>
            ) : null}
            {p.endpoints.map((e) => (
              <tr data-endpoint={e.id}>
                <td>
                  <a href={`/console/endpoints/${e.id}`}>{e.name}</a>
                </td>
                <td>
                  <span class={`status ${e.state}`}>{e.state}</span>
                </td>
                <td>
                  <code>{e.model}</code>
                </td>
                <td>{e.gpu_class}</td>
                <td data-instances>
                  {e.instances.length} (min {e.min_instances}, max {e.max_instances})
                </td>
                <td data-rate>{perHour(e.spend_rate_per_hour)}</td>
                <td>{perHour(e.price_per_hour)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Create an endpoint</h2>
      <CreateEndpointForm session={p.session} models={p.models} form={p.form ?? { values: {}, errors: {} }} />
    </Layout>
  );
}
