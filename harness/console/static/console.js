// The line at a glance, live: bench cards and waiting prompts from server-sent events.
// The page's <template> elements are cloned and filled (textContent only, never HTML).
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf"]').content;
  const benches = document.getElementById("benches");
  const list = document.getElementById("prompt-list");
  const none = document.getElementById("no-prompt");
  const live = document.getElementById("live");
  const shown = new Map(); // prompt id -> its form, kept while it waits (typed text and focus stay)

  function clock(s) {
    if (s === null || s === undefined) return "";
    const m = Math.floor(s / 60), r = s % 60;
    return m + ":" + String(r).padStart(2, "0");
  }
  function field(root, name) { return root.querySelector('[data-f="' + name + '"]'); }

  function benchCard(b) {
    const card = document.getElementById("bench-card").content.firstElementChild.cloneNode(true);
    card.id = (b.remote ? "facility-bench-" : "bench-") + b.name;
    card.dataset.state = b.state;
    if (b.remote) card.dataset.remote = "true";
    field(card, "name").textContent = b.name;
    field(card, "emulated").textContent = b.emulated ? "emulated" : "";
    field(card, "host").textContent = b.remote ? "on " + b.host : "";
    field(card, "state").textContent = b.state;
    field(card, "elapsed").textContent = b.elapsed_s !== null ? clock(b.elapsed_s) + " elapsed" : "";
    field(card, "operator").textContent = b.operator ? b.operator + " (" + b.role + ")" : "";
    const link = field(card, "campaign");
    if (b.campaign_id) { link.href = "/campaigns/" + b.campaign_id; link.textContent = "campaign #" + b.campaign_id; }
    const bar = field(card, "progress");
    bar.max = Math.max(1, b.total); bar.value = b.done;
    if (b.remote && !b.total) bar.hidden = true;  // its campaign's size is not in the store
    field(card, "done").textContent = b.total ? b.done + " of " + b.total + " devices" :
      (b.remote && b.done ? b.done + " devices done" : "");
    const counts = field(card, "counts");
    for (const [v, n] of Object.entries(b.counts)) {
      const s = document.createElement("span"); s.className = "v-" + v; s.textContent = v + " " + n + " ";
      counts.appendChild(s);
    }
    const now = field(card, "devices");
    for (const d of b.devices) {
      const li = document.createElement("li");
      const amps = d.amps === null || d.amps === undefined ? "" :
        ", " + (d.amps < 1 ? (d.amps * 1000).toFixed(1) + " mA" : d.amps.toFixed(3) + " A");
      li.textContent = d.device + ": " + d.stage + " (" + clock(d.elapsed_s) + amps + ")";
      now.appendChild(li);
    }
    if (b.queued) {
      field(card, "queue").textContent = "next: " + b.queue.join(", ") +
        (b.queued > b.queue.length ? " … (" + b.queued + " waiting)" : "");
    }
    const attention = field(card, "attention");
    for (const a of b.attention) {
      const li = document.createElement("li");
      const head = document.createElement("b");
      head.className = "v-" + a.verdict;
      head.textContent = a.device + " " + a.verdict + " → " + a.bin;
      li.appendChild(head);
      li.appendChild(document.createTextNode(": " + a.why + ". " + a.what_to_do));
      attention.appendChild(li);
    }
    if (b.exit_code !== null && b.state === "failed") {
      const p = document.createElement("p"); p.className = "error";
      p.textContent = "the run ended with exit status " + b.exit_code; card.appendChild(p);
      if (b.tail.length) {
        const pre = document.createElement("pre"); pre.className = "tail";
        pre.textContent = b.tail.join("\n"); card.appendChild(pre);
      }
    }
    return card;
  }

  function promptCard(p) {
    const form = document.getElementById("prompt-card").content.firstElementChild.cloneNode(true);
    form.action = "/prompts/" + p.id;
    form.id = "prompt-" + p.id;
    form.dataset.kind = p.kind;
    form.querySelector('input[name="csrf"]').value = csrf;
    field(form, "bench").textContent = p.bench;
    field(form, "slot").textContent = p.slot;
    field(form, "key").textContent = p.key;
    field(form, "text").textContent = p.text;
    field(form, "emulated").textContent = p.emulated_label ? "emulated bench: this device's label reads " + p.emulated_label : "";
    const reply = field(form, "reply");
    if (p.kind === "confirm") {
      reply.parentElement.remove();
    } else if (p.kind === "label") {
      reply.required = true;
    } else {
      reply.parentElement.firstChild.textContent = "Not sound (words; empty if all sound) ";
      reply.placeholder = "";
    }
    form.addEventListener("submit", (e) => answer(e, form));
    return form;
  }

  // Answer without leaving the page (the event stream and the focus stay); a refusal is shown
  // in the prompt itself.  Without script the form posts as usual.
  async function answer(e, form) {
    e.preventDefault();
    const data = new FormData(form, e.submitter);
    if (!data.get("choice")) data.set("choice", "done");
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    try {
      const reply = await fetch(form.action, {method: "POST", body: data,
                                              headers: {"Accept": "application/json"}});
      const body = await reply.json();
      if (!reply.ok) throw new Error(body.error || reply.statusText);
      form.classList.add("answered");
      focusOldest();
    } catch (err) {
      let p = form.querySelector("p.error");
      if (!p) { p = document.createElement("p"); p.className = "error"; form.appendChild(p); }
      p.textContent = "not recorded: " + err.message;
      for (const b of form.querySelectorAll("button")) b.disabled = false;
    }
  }

  function draw(line) {
    // This console's benches, then the facility's others (another host's, read from the store).
    benches.replaceChildren(...line.benches.map(benchCard), ...(line.facility || []).map(benchCard));
    for (const b of line.benches) {  // a bench runs one campaign at a time
      const button = document.querySelector('form.start[data-bench="' + CSS.escape(b.name) + '"] button');
      if (button) {
        const busy = b.state === "starting" || b.state === "running";
        button.disabled = busy;
        button.title = busy ? b.name + " is running a campaign" : "";
      }
    }
    const waiting = new Set(line.prompts.map(p => p.id));
    for (const [id, form] of shown) {
      if (!waiting.has(id)) { form.remove(); shown.delete(id); }
    }
    for (const p of line.prompts) {
      if (!shown.has(p.id)) {
        const form = promptCard(p);
        list.appendChild(form); shown.set(p.id, form);
      }
    }
    none.hidden = shown.size > 0;
    focusOldest();
  }

  // A scanner types into the focused field: keep the oldest waiting prompt's field focused,
  // unless the operator is in another waiting prompt. An answered prompt stays on screen
  // until the run takes the answer; the focus must not stay on it, or the next prompt's scan
  // would be typed into nothing.
  function focusOldest() {
    const active = document.activeElement;
    if (active && list.contains(active) && !active.closest("form.answered")) return;
    const first = list.querySelector("form.prompt:not(.answered)");
    if (!first) return;
    const target = first.querySelector('input[name="reply"]') || first.querySelector("button.done");
    if (target) target.focus();
  }

  draw(JSON.parse(document.getElementById("initial").textContent));
  const source = new EventSource("/events");
  source.onopen = () => { live.textContent = "live"; live.className = "live on"; };
  source.onerror = () => { live.textContent = "reconnecting…"; live.className = "live off"; };
  source.onmessage = (e) => draw(JSON.parse(e.data));
  // Elapsed times tick between events.
  setInterval(() => {
    for (const el of benches.querySelectorAll('[data-f="elapsed"]')) {
      const m = /^(\d+):(\d\d) elapsed$/.exec(el.textContent);
      if (m) el.textContent = clock(Number(m[1]) * 60 + Number(m[2]) + 1) + " elapsed";
    }
  }, 1000);
})();
