// The builder's toolbar: save the draft under If-Match (a conflict is shown, nothing is lost), validate with the cost
// estimate and per-node errors, publish, move aliases, copy the curl, and run with live per-node status.
(() => {
  const B = window.WfBuilder;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const usd = (micro) => `$${(micro / 1e6).toFixed(6)}`;

  function showErrors(errors) {
    const list = $("wf-errors");
    document.querySelectorAll(".drawflow-node.has-error").forEach((n) => n.classList.remove("has-error"));
    document.querySelectorAll(".node-error").forEach((n) => n.remove());
    list.hidden = errors.length === 0;
    list.innerHTML = errors.map((e) => `<li><code>${esc(e.pointer)}</code> ${esc(e.message)}</li>`).join("");
    for (const e of errors) {
      const m = /^\/nodes\/([^/]+)/.exec(e.pointer);
      const el = m && document.querySelector(`[data-key="node:${CSS.escape(m[1])}"]`);
      if (!el) continue;
      el.classList.add("has-error");
      el.querySelector(".wf-node").insertAdjacentHTML("beforeend", `<p class="node-error">${esc(e.message)}</p>`);
    }
  }

  async function save() {
    const r = await B.api("PUT", "/draft", { definition: B.graph.def }, { "if-match": B.etag });
    if (r.status === 200) {
      B.etag = r.etag;
      B.workflow = r.body;
      showErrors([]);
      B.say("Draft saved.");
      return true;
    }
    if (r.status === 412) {
      B.say(
        "Someone saved this draft after you opened it: reload to see their version (your edits stay here until then).",
        true,
      );
      $("wf-message").insertAdjacentHTML("beforeend", ' <a href="">Reload</a>');
      return false;
    }
    const errs = Array.isArray(r.body?.error?.details?.errors) ? r.body.error.details.errors : [];
    showErrors(errs);
    const first = errs[0] ? ` (${errs[0].pointer}: ${errs[0].message})` : "";
    B.say(`Not saved: ${r.body?.error?.message ?? r.status}${first}.`, true);
    return false;
  }

  async function validate() {
    if (!(await save())) return false;
    const r = await B.api("POST", "/validate");
    showErrors(r.body?.errors ?? []);
    if (r.body?.estimate) {
      const per = Object.entries(r.body.estimate.per_node)
        .map(([k, v]) => `${k} ${usd(v)}`)
        .join(", ");
      $("wf-estimate").textContent = `Estimate: at most ${usd(r.body.estimate.max_cost)} per run (${per})`;
    }
    const ok = !!r.body?.valid;
    B.say(ok ? "Valid: ready to publish." : "The draft has problems (listed above and on the nodes).", !ok);
    return !!r.body?.valid;
  }

  async function publish() {
    if (!(await validate())) return;
    const r = await B.api("POST", "/versions");
    if (r.status !== 201) return B.say(`Not published: ${r.body?.error?.message ?? r.status}.`, true);
    B.workflow = r.body.workflow;
    B.say(`Published version ${r.body.version}.`);
    versions();
  }

  function versions() {
    const w = B.workflow;
    const a = w.aliases;
    const v = (n) => (n ? `v${n}` : "not set");
    $("wf-versions").textContent = w.versions.length
      ? `Versions: ${w.versions.map((x) => `v${x.version}`).join(", ")}. latest: ${v(a.latest)}; ` +
        `production: ${v(a.production)}; staging: ${v(a.staging)}. A bare-slug call runs ${v(w.serving)}.`
      : "Not published yet.";
    $("wf-alias-version").innerHTML = w.versions
      .map((x) => `<option value="${x.version}">v${x.version}</option>`)
      .join("");
    const sample = {};
    for (const [k, p] of Object.entries(w.input_schema?.properties ?? {})) {
      const number = p.type === "number" || p.type === "integer";
      sample[k] = p.format === "image" ? "https://example.com/photo.jpg" : (p.default ?? (number ? 1 : "text"));
    }
    $("wf-curl").textContent =
      `curl -X POST ${w.run_url} -H "x-api-key: $API_KEY" -H "content-type: application/json" ` +
      `-d '${JSON.stringify(sample)}'`;
    runForm(w.input_schema);
  }

  function runField(k, p) {
    const id = `run-${esc(k)}`;
    const attrs = `id="${id}" name="${esc(k)}"`;
    const number = p.type === "number" || p.type === "integer";
    const input =
      p.format === "image"
        ? `<input ${attrs} type="file" accept="image/*">`
        : p.type === "boolean"
          ? `<input ${attrs} type="checkbox">`
          : `<input ${attrs} type="${number ? "number" : "text"}" value="${esc(p.default ?? "")}">`;
    return `<div class="field"><label for="${id}">${esc(k)}</label>${input}</div>`;
  }

  function runForm(schema) {
    const props = Object.entries(schema?.properties ?? {});
    $("wf-run-form").innerHTML = schema
      ? `${props.map(([k, p]) => runField(k, p)).join("")}<button type="submit">Run</button>`
      : '<p class="help">Publish a version to run it.</p>';
  }

  const dataUrl = (file) =>
    new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(r.result);
      r.onerror = reject;
      r.readAsDataURL(file);
    });

  $("wf-run-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const inputs = {};
    for (const el of e.target.elements) {
      if (!el.name) continue;
      if (el.type === "file") {
        if (el.files[0]) inputs[el.name] = await dataUrl(el.files[0]);
      } else if (el.type === "checkbox") inputs[el.name] = el.checked;
      else if (el.type === "number" && el.value !== "") inputs[el.name] = Number(el.value);
      else if (el.value !== "") inputs[el.name] = el.value;
    }
    const r = await B.api("POST", "/runs", { inputs });
    if (r.status !== 202) return B.say(`Run refused: ${r.body?.error?.message ?? r.status}.`, true);
    B.say(`Run ${r.body.run_id} started.`);
    poll(r.body.run_id);
  });

  const nodeRow = ([n, s]) =>
    `<tr data-run-node="${esc(n)}"><td><code>${esc(n)}</code></td><td>${esc(s.model)}</td>
      <td><span class="status ${esc(s.status)}">${esc(s.status.toLowerCase())}</span></td>
      <td class="num">${s.cost === null ? "—" : usd(s.cost)}</td>
      <td>${s.error ? esc(s.error.message) : ""}</td></tr>`;
  const outputItem = ([k, o]) =>
    o.type === "file"
      ? `<li><a href="${esc(o.url)}">${esc(k)}</a> (${esc(o.content_type)})</li>`
      : `<li>${esc(k)}: <code>${esc(JSON.stringify(o.value))}</code></li>`;

  /** Polls the run and paints each node's status on the canvas and in the table until the run has settled. */
  async function poll(id) {
    const run = await (await fetch(`/console/workflow-runs/${id}`)).json();
    const nodes = Object.entries(run.nodes ?? {});
    for (const [n, s] of nodes) {
      const badge = document.querySelector(`[data-node-status="${CSS.escape(n)}"]`);
      if (!badge) continue;
      badge.textContent = s.status.toLowerCase();
      badge.className = `node-status status ${s.status}`;
    }
    const outs = Object.entries(run.outputs ?? {}).map(outputItem);
    const cost = run.cost !== null ? ` · cost ${usd(run.cost)}` : "";
    $("wf-run").innerHTML = `<p>Run <code>${esc(run.run_id)}</code>:
      <span class="status ${esc(run.status)}" id="wf-run-status">${esc(run.status.toLowerCase())}</span>${cost}</p>
      <div class="table-wrap"><table><thead><tr><th>Node</th><th>Model</th><th>Status</th><th class="num">Cost</th>
      <th>Error</th></tr></thead><tbody>${nodes.map(nodeRow).join("")}</tbody></table></div>
      ${outs.length ? `<ul>${outs.join("")}</ul>` : ""}`;
    const settling = run.status === "COMPLETED" && run.cost === null;
    if (["QUEUED", "PROCESSING"].includes(run.status) || settling) setTimeout(() => poll(id), 1000);
  }

  $("wf-alias").addEventListener("submit", async (e) => {
    e.preventDefault();
    const alias = $("wf-alias-name").value;
    const r = await B.api("PUT", `/aliases/${alias}`, { version: Number($("wf-alias-version").value) });
    if (r.status !== 200) return B.say(`Alias not moved: ${r.body?.error?.message ?? r.status}.`, true);
    B.workflow = r.body;
    B.say(`${alias} now runs v${r.body.aliases[alias]}.`);
    versions();
  });
  $("wf-save").addEventListener("click", save);
  $("wf-validate").addEventListener("click", validate);
  $("wf-publish").addEventListener("click", publish);
  versions();
})();
