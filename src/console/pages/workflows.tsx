/** @jsxImportSource hono/jsx */
import type { WorkflowView } from "../../../schemas/index.ts";
import { Csrf, Layout } from "../layout.tsx";
import type { Prop } from "../schema-form.tsx";
import type { ConsoleSession } from "../services/session.ts";

export interface PaletteModel {
  slug: string;
  name: string;
  category: string;
  output_type: string;
  input_schema: { properties?: Record<string, Prop>; required?: string[] };
}

interface TemplateItem {
  id: string;
  name: string;
  description: string;
  models: string[];
}

const json = (v: unknown) => JSON.stringify(v).replaceAll("<", "\\u003c");

export function WorkflowsPage(p: {
  session: ConsoleSession;
  workflows: WorkflowView[];
  templates: TemplateItem[];
  models: PaletteModel[];
  error?: string;
}) {
  return (
    <Layout title="Workflows" active="workflows" session={p.session}>
      <h1>Workflows</h1>
      <p class="help">
        Chain models into one versioned API endpoint: build it on a canvas (or in a table), publish a version, point
        production at it, and call it like a model.
      </p>
      {p.error ? (
        <p class="error" role="alert">
          {p.error}
        </p>
      ) : null}
      <h2 id="yours-h">Your workflows</h2>
      <div class="table-wrap" tabindex={0} role="region" aria-labelledby="yours-h">
        <table id="workflows">
          <thead>
            <tr>
              <th>Workflow</th>
              <th>Versions</th>
              <th>Production</th>
              <th>Draft saved</th>
            </tr>
          </thead>
          <tbody>
            {p.workflows.length === 0 ? (
              <tr>
                <td colspan={4}>No workflows yet: start from a template or a model below.</td>
              </tr>
            ) : null}
            {p.workflows.map((w) => (
              <tr>
                <td>
                  <a href={`/console/workflows/${w.slug}`}>{w.name}</a> <code class="help">{w.slug}</code>
                </td>
                <td>{w.versions.length}</td>
                <td>{w.aliases.production ? `v${w.aliases.production}` : "—"}</td>
                <td>{w.draft.updated_at.replace("T", " ").slice(0, 19)} UTC</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>New workflow</h2>
      <form method="post" action="/console/workflows" class="inline">
        <Csrf session={p.session} />
        <div>
          <label for="wf-slug">Slug</label>
          <input id="wf-slug" name="slug" type="text" required pattern="[a-z0-9][a-z0-9-]{1,62}" maxlength={63} />
        </div>
        <div>
          <label for="wf-name">Name</label>
          <input id="wf-name" name="name" type="text" maxlength={200} />
        </div>
        <div>
          <label for="wf-model">First model</label>
          <select id="wf-model" name="model">
            {p.models.map((m) => (
              <option value={m.slug}>{m.name}</option>
            ))}
          </select>
        </div>
        <button type="submit">Create and open the builder</button>
      </form>
      <h2>Templates</h2>
      <ul class="models" id="templates">
        {p.templates.map((t) => (
          <li>
            <h3>{t.name}</h3>
            <p class="help">{t.description}</p>
            <p class="help">Models: {t.models.join(", ")}</p>
            <form method="post" action={`/console/workflows/templates/${t.id}/copy`}>
              <Csrf session={p.session} />
              <button type="submit" class="secondary">
                Open in the builder<span class="sr-only">: {t.name}</span>
              </button>
            </form>
          </li>
        ))}
      </ul>
    </Layout>
  );
}

/** The builder: the canvas (drawflow) and the table editor are two views of one definition, built by builder.js. */
export function BuilderPage(p: { session: ConsoleSession; workflow: WorkflowView; models: PaletteModel[] }) {
  const w = p.workflow;
  return (
    <Layout title={`${w.name} · builder`} active="workflows" session={p.session} builder>
      <h1>
        {w.name} <code class="help">{w.slug}</code>
      </h1>
      <script type="application/json" id="wf-state" dangerouslySetInnerHTML={{ __html: json(w) }}></script>
      <script type="application/json" id="wf-models" dangerouslySetInnerHTML={{ __html: json(p.models) }}></script>
      <div class="toolbar" role="toolbar" aria-label="Workflow">
        <button type="button" id="wf-save">
          Save draft
        </button>
        <button type="button" id="wf-validate" class="secondary">
          Validate
        </button>
        <button type="button" id="wf-publish" class="secondary">
          Publish
        </button>
        <span id="wf-estimate" class="help"></span>
      </div>
      <p id="wf-message" role="status" aria-live="polite"></p>
      <ul id="wf-errors" class="error" hidden></ul>
      <div class="builder">
        <aside class="palette" aria-labelledby="palette-h">
          <h2 id="palette-h">Models</h2>
          <p class="help">Drag onto the canvas, or press Add.</p>
          <ul>
            {p.models.map((m) => (
              <li draggable="true" data-model={m.slug}>
                <span>{m.name}</span>{" "}
                <button type="button" class="secondary small" data-add-model={m.slug}>
                  Add<span class="sr-only"> {m.name}</span>
                </button>
              </li>
            ))}
          </ul>
          <h2>Inputs and outputs</h2>
          <form id="wf-add-input" class="stack">
            <label for="wf-input-name">Input name</label>
            <input id="wf-input-name" type="text" pattern="[a-zA-Z_][a-zA-Z0-9_]{0,63}" required />
            <label for="wf-input-type">Type</label>
            <select id="wf-input-type">
              {["image", "string", "number", "integer", "boolean"].map((t) => (
                <option value={t}>{t}</option>
              ))}
            </select>
            <button type="submit" class="secondary">
              Add input
            </button>
          </form>
          <form id="wf-add-output" class="stack">
            <label for="wf-output-name">Output name</label>
            <input id="wf-output-name" type="text" pattern="[a-zA-Z_][a-zA-Z0-9_]{0,63}" required />
            <button type="submit" class="secondary">
              Add output
            </button>
          </form>
        </aside>
        <div
          id="wf-canvas"
          class="canvas"
          aria-label="Workflow canvas: the table editor below is the keyboard path"
        ></div>
        <aside class="inspector" aria-labelledby="inspector-h">
          <h2 id="inspector-h">Node</h2>
          <p id="wf-inspector-empty" class="help">
            Select a node to edit its literal inputs.
          </p>
          <form id="wf-node-form" hidden></form>
        </aside>
      </div>
      <h2 id="table-h">Table editor</h2>
      <p class="help">The same graph: each node input takes a literal value or another node's output.</p>
      <div id="wf-table" class="table-wrap" tabindex={0} role="region" aria-labelledby="table-h"></div>

      <div class="grid2">
        <section aria-labelledby="versions-h">
          <h2 id="versions-h">Versions and aliases</h2>
          <p id="wf-versions"></p>
          <form id="wf-alias" class="inline">
            <div>
              <label for="wf-alias-name">Alias</label>
              <select id="wf-alias-name">
                <option value="production">production</option>
                <option value="staging">staging</option>
              </select>
            </div>
            <div>
              <label for="wf-alias-version">Version</label>
              <select id="wf-alias-version"></select>
            </div>
            <button type="submit" class="secondary">
              Move alias
            </button>
          </form>
          <h3>Call it</h3>
          <div class="secret">
            <code id="wf-curl"></code>
            <button type="button" class="secondary" data-copy="wf-curl">
              Copy
            </button>
          </div>
        </section>
        <section aria-labelledby="run-h">
          <h2 id="run-h">Run the published version</h2>
          <form id="wf-run-form"></form>
          <div id="wf-run" aria-live="polite"></div>
        </section>
      </div>
    </Layout>
  );
}
