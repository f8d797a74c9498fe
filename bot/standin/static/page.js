// The demo page's script: keeps the server-rendered page live and turns clicks into requests.
(() => {
  "use strict";
  const body = document.body;
  const user = body.dataset.user;
  const where = body.dataset.where;
  const generation = body.dataset.generation;
  const byId = (id) => document.getElementById(id);

  function show(text) {
    const out = byId("notice");
    if (out) out.textContent = text;
  }

  async function post(path, data) {
    let answer = {};
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ as: user, ...data }),
      });
      answer = await response.json().catch(() => ({}));
      if (!response.ok || answer.ok === false) show(answer.problem || `HTTP ${response.status}`);
      else show("");  // a control's result comes with the next update, in #result
    } catch (error) {
      show(String(error));
    }
    return answer;
  }

  // ----- live updates: the server says something changed, the page fetches its parts ------
  let busy = false;
  let again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const query = `as=${encodeURIComponent(user)}&c=${encodeURIComponent(where)}`;
      const response = await fetch(`/parts?${query}`);
      if (response.status === 503) { setTimeout(refresh, 300); return; }  // restarting
      const parts = await response.json();
      if (String(parts.generation) !== generation) { location.reload(); return; }
      const old = document.querySelector("#pane .messages");
      const atEnd = !old || old.scrollHeight - old.scrollTop - old.clientHeight < 60;
      const top = old ? old.scrollTop : 0;
      replace(byId("sidebar"), parts.sidebar);
      patch(byId("pane"), parts.pane);
      replace(byId("status"), parts.status);
      const list = document.querySelector("#pane .messages");
      if (list) list.scrollTop = atEnd ? list.scrollHeight : top;
      const modal = byId("modal");
      if (modal.dataset.key !== parts.modal_key) {
        modal.dataset.key = parts.modal_key;
        modal.innerHTML = parts.modal;
        focusModal();
      }
    } catch (error) {
      show(String(error));
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  function replace(element, html) {
    if (element.innerHTML !== html) element.innerHTML = html;
  }

  // Only messages that changed are redrawn: a click on any other message is never lost.
  function patch(pane, html) {
    const next = document.createElement("div");
    next.innerHTML = html;
    const list = pane.querySelector(".messages");
    const fresh = next.querySelector(".messages");
    const title = (root) => root.querySelector(".pane-title")?.outerHTML;
    if (!list || !fresh || title(pane) !== title(next)) { pane.innerHTML = html; return; }
    const old = Array.from(list.children);
    const incoming = Array.from(fresh.children);
    incoming.forEach((node, i) => {
      if (!old[i]) list.appendChild(node);
      else if (old[i].outerHTML !== node.outerHTML) old[i].replaceWith(node);
    });
    old.slice(incoming.length).forEach((extra) => extra.remove());
  }

  let lastFocus = null;
  function focusModal() {
    const dialog = document.querySelector("#modal [role=dialog]");
    if (!dialog) {
      if (lastFocus && document.body.contains(lastFocus)) lastFocus.focus();
      return;
    }
    const invalid = dialog.querySelector("[aria-invalid=true]");
    const first = invalid || dialog.querySelector("input, select, textarea, button");
    if (first) first.focus();
  }

  // ----- Block Kit elements in messages and the Home tab --------------------------------
  function action(element, value) {
    const d = element.dataset;
    const label = element.selectedOptions
      ? element.selectedOptions[0]?.textContent : element.textContent;
    return post("/act", {
      channel: d.channel || "", ts: d.ts || "", view: d.view || "",
      block: d.block, action: d.action, kind: d.kind, value, label: label || "",
    });
  }

  // A link button opens its URL as Slack does; a permalink to this workspace opens the message.
  function follow(url) {
    const permalink = url.match(/\/archives\/([A-Z0-9_]+)\/p(\d+)/);
    if (!permalink) { window.open(url, "_blank", "noopener"); return; }
    const query = `as=${encodeURIComponent(user)}&c=${encodeURIComponent(permalink[1])}`;
    location.href = `/?${query}#m${permalink[2]}`;
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) {
      lastFocus = button;
      action(button, button.dataset.value);
      if (button.dataset.url) follow(button.dataset.url);
      return;
    }
    const link = event.target.closest(".blocks a[href*='/archives/'], .home a[href*='/archives/']");
    if (link) { event.preventDefault(); follow(link.href); return; }
    const cancel = event.target.closest("button[data-cancel]");
    if (cancel) { post("/cancel", { view: cancel.dataset.cancel }); return; }
    const language = event.target.closest("button[data-language]");
    if (language) {
      show("…");
      post("/control/language", { language: language.dataset.language }).then(() => location.reload());
      return;
    }
    const step = event.target.closest("button[data-advance]");
    if (step) { show("…"); post("/control/advance", { step: step.dataset.advance }); }
  });

  document.addEventListener("change", (event) => {
    const field = event.target;
    if (field.id === "as") { field.form.submit(); return; }
    const inModal = field.closest("form.modal-form");
    if (field.matches("[data-action]") && (!inModal || field.dataset.dispatch) && field.value) {
      lastFocus = field;
      action(field, field.value);
    }
  });

  // ----- modals: required fields checked here, the rest by the bot, as in Slack ----------
  function values(form) {
    const found = {};
    const missing = [];
    for (const input of form.querySelectorAll(".b-input[data-block-id]")) {
      const field = input.querySelector("[name]");
      if (!field) continue;
      const value = field.multiple
        ? Array.from(field.selectedOptions, (o) => o.value)
        : field.value.trim();
      found[input.dataset.blockId] = value;
      if (input.dataset.required && (value.length === 0)) missing.push(input);
    }
    return { found, missing };
  }

  function markMissing(form, missing) {
    for (const old of form.querySelectorAll(".field-error.local")) old.remove();
    for (const input of missing) {
      const field = input.querySelector("[name]");
      const error = document.createElement("div");
      error.className = "field-error local";
      error.setAttribute("role", "alert");
      error.id = `err-local-${input.dataset.blockId}`;
      error.textContent = body.dataset.required;
      field.after(error);
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", error.id);
    }
    if (missing.length) missing[0].querySelector("[name]").focus();
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    event.preventDefault();
    if (form.matches("form.modal-form")) {
      const { found, missing } = values(form);
      markMissing(form, missing);
      if (!missing.length) post("/submit", { view: form.dataset.view, values: found });
    } else if (form.id === "composer") {
      const line = form.command.value.trim();
      if (!line) return;
      if (!line.startsWith("/")) { show(body.dataset.onlyCommands); return; }
      form.command.value = "";
      post("/command", { command: line, channel: where });
    } else if (form.dataset.control) {
      const data = Object.fromEntries(new FormData(form));
      show("…");
      post(`/control/${form.dataset.control}`, data);
    }
  });

  document.addEventListener("keydown", (event) => {
    const cancel = document.querySelector("#modal button[data-cancel]");
    if (event.key === "Escape" && cancel) cancel.click();
  });

  const list = document.querySelector("#pane .messages");
  const target = location.hash && document.getElementById(location.hash.slice(1));
  if (target) target.scrollIntoView();  // and :target highlights it
  else if (list) list.scrollTop = list.scrollHeight;
  focusModal();
  const stream = new EventSource("/stream");
  stream.onmessage = refresh;
})();
