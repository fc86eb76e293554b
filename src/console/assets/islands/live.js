// Live progress of a playground run from the request's event stream (Server-Sent Events through the console's
// session-authenticated route, so no API key is in the page). The result card polls on its own as the fallback;
// a terminal event makes it refresh at once.
const LABEL = {
  queued: "Queued",
  started: "Running",
  requeued: "Requeued after an agent failure",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

function attach(root) {
  if (!(root instanceof Element || root instanceof Document)) return;
  const found = root instanceof Element && root.matches("[data-events]") ? [root] : [];
  for (const el of [...found, ...root.querySelectorAll("[data-events]")]) {
    if (el.dataset.state || typeof EventSource !== "function") continue;
    const phase = el.querySelector("[data-phase]");
    const bar = el.querySelector("progress");
    const seen = [];
    const set = (text) => (phase.textContent = text);
    const es = new EventSource(el.getAttribute("data-events"));
    el.dataset.state = "connecting";
    const on = (type, fn) =>
      es.addEventListener(type, (e) => {
        seen.push(type);
        el.dataset.seen = seen.join(" ");
        el.dataset.state = "live";
        fn(e.data ? JSON.parse(e.data) : {});
      });
    for (const t of ["queued", "started", "requeued"]) on(t, () => set(LABEL[t]));
    on("queue", (d) => set(d.queue_position ? `Queued, position ${d.queue_position}` : "Queued"));
    on("progress", (d) => {
      bar.value = d.percent;
      set(`Running: step ${d.step} of ${d.total}${d.message ? ` (${d.message})` : ""}`);
    });
    for (const t of ["completed", "failed", "cancelled"])
      on(t, () => {
        es.close();
        if (t === "completed") bar.value = 100;
        else bar.removeAttribute("value");
        set(LABEL[t]);
        el.dataset.state = "done";
        document.body.dispatchEvent(new CustomEvent("live-done"));
      });
    es.onerror = () => {
      // The browser reconnects by itself (with Last-Event-ID) unless the stream was refused.
      if (es.readyState === EventSource.CLOSED && el.dataset.state !== "done") {
        el.dataset.state = "polling";
        set(`${phase.textContent}: live updates unavailable, checking every few seconds`);
      }
    };
  }
}

attach(document);
document.addEventListener("htmx:load", (e) => attach(e.detail.elt));
