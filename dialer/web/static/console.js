// The operator console page: pushed screen updates, state buttons, number-key dispositions.
// Served by the console itself; no other origin, no inline script (the page's CSP forbids it).
"use strict";

(function () {
  const OUTBOX = "dialer.outbox";
  const csrf = () => (document.querySelector('meta[name="csrf"]') || {}).content || "";

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf() },
    });
    if (response.status === 401 || response.status === 403) {
      sessionProblem(response.status, await response.clone().json().catch(function () { return {}; }));
    }
    return response;
  }

  // A refusal of the session itself stays at the top of the page, with the way on: 401 (the
  // session ended) log in again, 403 (this page's CSRF token is out of date) reload the page.
  // The refused request also shows the message where its other refusals go.
  function sessionProblem(status, answer) {
    const banner = document.getElementById("session-problem");
    if (!banner) return;
    document.getElementById("session-problem-text").textContent = answer.error || String(status);
    document.getElementById("session-login").hidden = status !== 401;
    document.getElementById("session-reload").hidden = status === 401;
    banner.hidden = false;
  }

  // --- timers: how long the operator has been in each state (display only) ---
  // Only text that changed is written: an unchanged timer costs the page no relayout.
  function pad(n) { return String(n).padStart(2, "0"); }
  function show(el, text) { if (el.textContent !== text) el.textContent = text; }
  function drawTimers(root) {
    const now = Date.now() / 1000;
    (root || document).querySelectorAll(".timer[data-since]").forEach(function (el) {
      const since = parseFloat(el.dataset.since);
      if (!since) { show(el, ""); return; }
      const s = Math.max(0, Math.floor(now - since));
      show(el, Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60));
    });
    (root || document).querySelectorAll(".countdown[data-until]").forEach(function (el) {
      const s = Math.max(0, Math.ceil(parseFloat(el.dataset.until) - now));
      show(el, Math.floor(s / 60) + ":" + pad(s % 60));
    });
  }

  // --- dispositions: kept in an outbox until the console confirms them ---
  function outbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX) || "[]"); } catch (e) { return []; }
  }
  function saveOutbox(items) { localStorage.setItem(OUTBOX, JSON.stringify(items)); }

  async function sendOne(item) {
    const body = new FormData();
    body.set("code", item.code);
    body.set("note", item.note);
    body.set("callback_at", item.callbackAt || "");
    body.set("callback_for", item.callbackFor || "me");
    (item.answers || []).forEach(function (pair) { body.append(pair[0], pair[1]); });
    let response;
    try {
      response = await post("/calls/" + encodeURIComponent(item.attempt) + "/disposition", body);
    } catch (e) {
      return "later";  // the console is unreachable: keep it and resend on reconnect
    }
    if (response.ok || response.status === 404) return "done";
    if (response.status === 401 || response.status === 403) {
      // Kept, and sent again once the operator has logged in (or reloaded) and the stream is back.
      showProblems(await response.json().catch(function () { return {}; }));
      return "later";
    }
    if (response.status === 400) {
      const answer = await response.json();
      showProblems(answer);
      return "done";
    }
    return "later";
  }

  function showProblems(answer) {
    document.querySelectorAll("#disposition .field-error").forEach(function (el) { el.textContent = ""; });
    const call = document.getElementById("call");
    if (call) call.classList.remove("sent");
    const problems = answer.problems || {};
    if (answer.field === "callback_at") problems.callback_at = answer.error;
    Object.keys(problems).forEach(function (key) {
      const el = document.getElementById("error-" + key);
      if (el) el.textContent = problems[key];
    });
    if (!Object.keys(problems).length) {
      const err = document.getElementById("disposition-error");
      if (err) err.textContent = answer.error || "";
    }
  }

  async function flushOutbox() {
    const items = outbox();
    const left = [];
    for (const item of items) {
      if ((await sendOne(item)) === "later") left.push(item);
    }
    saveOutbox(left);
  }

  function dispose(code) {
    const call = document.getElementById("call");
    if (!call) return;
    const note = document.getElementById("note");
    const items = outbox().filter(function (i) { return i.attempt !== call.dataset.attempt; });
    const answers = [];
    new FormData(document.getElementById("disposition")).forEach(function (value, name) {
      if (name.startsWith("q_")) answers.push([name, value]);
    });
    const at = document.getElementById("callback_at");
    const who = document.getElementById("callback_for");
    items.push({
      attempt: call.dataset.attempt, code: code, note: note ? note.value : "", answers: answers,
      callbackAt: at ? at.value : "", callbackFor: who ? who.value : "me",
    });
    saveOutbox(items);
    call.classList.add("sent");
    flushOutbox();
  }

  document.addEventListener("click", function (ev) {
    const button = ev.target.closest("button.code");
    if (button) { ev.preventDefault(); dispose(button.dataset.code); }
    const action = ev.target.closest("button.preview-action");
    if (action) { ev.preventDefault(); preview(action.dataset.action, action.dataset.lead); }
  });

  // --- preview: next lead, call, skip ---
  // A refusal stays at the preview buttons until the next press, across redraws of the panel (a
  // reservation that ran out is given back, and the panel redrawn, as the refusal comes).
  let previewMessage = "";
  function showPreviewMessage() {
    const err = document.getElementById("preview-error");
    if (err) err.textContent = previewMessage;
  }

  async function preview(action, lead) {
    const url = action === "next" ? "/preview/next" : "/preview/" + encodeURIComponent(lead) + "/" + action;
    previewMessage = "";
    showPreviewMessage();
    try {
      const response = await post(url, new FormData());
      const answer = await response.json().catch(function () { return {}; });
      previewMessage = response.ok ? "" : (answer.error || String(response.status));
    } catch (e) {
      previewMessage = "…";
    }
    showPreviewMessage();
  }

  // --- manual dial ---
  document.addEventListener("submit", async function (ev) {
    const form = ev.target;
    if (form.id !== "manual-dial") return;
    ev.preventDefault();
    const done = document.getElementById("dial-done");
    form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
    try {
      const response = await post("/dial", new FormData(form));
      const answer = await response.json().catch(function () { return {}; });
      const err = document.getElementById("error-" + (answer.field === "place" ? "place" : "phone"));
      err.textContent = response.ok ? "" : (answer.error || String(response.status));
      done.textContent = response.ok ? (answer.message || "") : "";
    } catch (e) {
      document.getElementById("error-phone").textContent = "…";
    }
  });

  document.addEventListener("keydown", function (ev) {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "textarea" || tag === "input" || tag === "select") return;
    if (ev.ctrlKey || ev.altKey || ev.metaKey || !/^[1-9]$/.test(ev.key)) return;
    const button = document.querySelector('button.code[data-key="' + ev.key + '"]');
    if (button) { ev.preventDefault(); dispose(button.dataset.code); }
  });

  // --- lead edits: each bad value gets its message next to its field ---
  async function saveLead(form) {
    const saved = document.getElementById("lead-saved");
    form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
    if (saved) saved.textContent = "";
    let response;
    try {
      response = await post(form.getAttribute("action"), new FormData(form));
    } catch (e) {
      if (saved) saved.textContent = "…";
      return;
    }
    const answer = await response.json().catch(function () { return {}; });
    if (response.ok) {
      if (saved) saved.textContent = saved.dataset.done;
      return;
    }
    const problems = answer.problems || {};
    form.querySelectorAll(".field-error[data-field]").forEach(function (el) {
      if (problems[el.dataset.field]) el.textContent = problems[el.dataset.field];
    });
    if (!Object.keys(problems).length && saved) saved.textContent = answer.error || String(response.status);
  }

  // --- state buttons ---
  document.addEventListener("submit", async function (ev) {
    const form = ev.target;
    if (form.id === "lead-edit") { ev.preventDefault(); saveLead(form); return; }
    if (!form.classList.contains("state-form")) return;
    ev.preventDefault();
    const body = new FormData(form);
    if (ev.submitter) body.set(ev.submitter.name, ev.submitter.value);
    const err = document.getElementById("state-error");
    try {
      const response = await post("/state", body);
      if (!response.ok) {
        const answer = await response.json().catch(function () { return {}; });
        if (err) err.textContent = answer.error || String(response.status);
      } else if (err) { err.textContent = ""; }
    } catch (e) {
      if (err) err.textContent = "…";
    }
  });

  // --- pushed screen updates ---
  // Each pop's wall-clock time (ms) is kept on the page, for the screen-pop benchmark, with the
  // console's instants (woken, sent) and the CPU time (ms) it spent reading and rendering the call.
  const pops = [];
  function notePop(attempt, server, received) {
    const drawn = performance.timeOrigin + performance.now();
    const times = (server || "").split(" ").map(parseFloat);
    pops.push([attempt, drawn, times[0], times[1], received, times[2]]);
    if (pops.length > 200) pops.shift();
    document.body.dataset.pops = JSON.stringify(pops);
  }

  // A message carries only the parts of the screen that changed: state, call (with attempt), direct.
  function applyState(html) {
    const reason = document.getElementById("reason");
    const chosen = reason ? reason.value : null;
    document.getElementById("state-panel").innerHTML = html;
    const again = document.getElementById("reason");
    if (again && chosen) again.value = chosen;
  }

  function applyCall(data, received) {
    const callPanel = document.getElementById("call-panel");
    if (callPanel.dataset.attempt !== data.attempt || !document.getElementById("call") !== !data.attempt) {
      callPanel.innerHTML = data.call;
      callPanel.dataset.attempt = data.attempt;
      if (data.attempt) notePop(data.attempt, data.t, received);
    } else if (data.attempt) {
      const kept = formState();
      callPanel.innerHTML = data.call;
      restoreForm(kept);
    } else {
      callPanel.innerHTML = data.call;
    }
  }

  // Each panel a message carries is written once, and only its own timers are drawn.
  function apply(data, received) {
    if (data.call !== undefined) {
      applyCall(data, received);
      drawTimers(document.getElementById("call-panel"));
    }
    if (data.state !== undefined) {
      applyState(data.state);
      drawTimers(document.getElementById("state-panel"));
    }
    const direct = document.getElementById("direct-panel");
    if (direct && data.direct !== undefined) {
      direct.innerHTML = data.direct;
      showPreviewMessage();
      drawTimers(direct);
    }
  }

  // What the operator typed or ticked survives a redraw of the same call.
  const KEPT = "#disposition input, #disposition textarea, #lead-edit input";
  function formState() {
    const box = document.getElementById("lead-edit-box");
    const state = [["lead-edit-open", box ? box.open : false]];
    document.querySelectorAll(KEPT).forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") state.push([el.name + "=" + el.value, el.checked]);
      else state.push([el.name, el.value]);
    });
    return state;
  }
  function restoreForm(state) {
    const byKey = new Map(state);
    const box = document.getElementById("lead-edit-box");
    if (box) box.open = byKey.get("lead-edit-open");
    document.querySelectorAll(KEPT).forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        const key = el.name + "=" + el.value;
        if (byKey.has(key)) el.checked = byKey.get(key);
      } else if (byKey.has(el.name)) { el.value = byKey.get(el.name); }
    });
  }

  // The browser gives a stream up, without retrying, when it is refused: ask why. A session that
  // ended is said at the top of the page; anything else (a proxy's error page) is retried shortly.
  async function refused(url) {
    let response = null;
    try {
      response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    } catch (e) {
      response = null;
    }
    if (response && (response.status === 401 || response.status === 403)) {
      sessionProblem(response.status, await response.json().catch(function () { return {}; }));
      return;
    }
    if (response && response.body) response.body.cancel();
    setTimeout(connect, 5000);
  }

  function connect() {
    const screen = document.getElementById("screen") || document.getElementById("team-panel");
    if (!screen) return;
    const link = document.getElementById("link");
    const source = new EventSource(screen.dataset.events);
    source.addEventListener("open", function () {
      link.textContent = link.dataset.up;
      link.className = "link up";
      flushOutbox();
    });
    source.addEventListener("error", function () {
      link.textContent = link.dataset.down;
      link.className = "link down";
      if (source.readyState === EventSource.CLOSED) refused(screen.dataset.events);
    });
    source.addEventListener("screen", function (ev) {
      apply(JSON.parse(ev.data), performance.timeOrigin + performance.now());
    });
    source.addEventListener("team", function (ev) {
      screen.innerHTML = JSON.parse(ev.data).team;
      drawTimers();
    });
    source.addEventListener("logout", function () { source.close(); window.location.assign("/login"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawTimers();
    setInterval(drawTimers, 1000);
    connect();
  });
})();
