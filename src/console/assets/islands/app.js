// Small progressive enhancements for every console page; the pages work without them.
document.addEventListener("click", async (e) => {
  const btn = e.target instanceof Element ? e.target.closest("[data-copy]") : null;
  if (!btn) return;
  const el = document.getElementById(btn.getAttribute("data-copy"));
  if (!el) return;
  try {
    await navigator.clipboard.writeText(el.textContent.trim());
    btn.textContent = "Copied";
  } catch {
    // Clipboard access can be refused (insecure origin, permissions): select the text so Ctrl-C works.
    const range = document.createRange();
    range.selectNodeContents(el);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    btn.textContent = "Press Ctrl-C";
  }
});

document.addEventListener("submit", (e) => {
  const form = e.target;
  const msg = form instanceof HTMLFormElement ? form.getAttribute("data-confirm") : null;
  if (msg && !window.confirm(msg)) e.preventDefault();
});
