// The operator's page: polls /status.json and updates each listener's state and counts in place. The rows come with
// the page (it reads without JavaScript); the listeners are fixed at start, so only their cells change.
"use strict";

(() => {
  const intervalMs = 2000;
  const maxIntervalMs = 30000;
  const fields = ["connections", "bytesIn", "bytesOut", "datagramsIn", "datagramsOut", "chatUsers"];
  const number = new Intl.NumberFormat("en-US");
  const pause = document.getElementById("pause");
  const updated = document.getElementById("updated");
  const live = document.getElementById("live");
  let paused = false;
  let failures = 0;
  let timer = 0;

  const rows = new Map();
  for (const row of document.querySelectorAll("#listeners tbody tr[data-listener]")) {
    rows.set(row.dataset.listener.toLowerCase(), row);
  }

  function setCount(cell, value) {
    const text = value === null || value === undefined ? "\u2014" : number.format(value);
    if (cell.textContent !== text) {
      cell.textContent = text;
    }
    cell.classList.toggle("none", value === null || value === undefined);
  }

  function setState(cell, listener) {
    const state = cell.querySelector(".state");
    if (state.textContent !== listener.state) {
      state.textContent = listener.state;
      state.className = "state state-" + listener.state;
    }
    let detail = cell.querySelector(".detail");
    if (listener.detail && !detail) {
      detail = document.createElement("span");
      detail.className = "detail";
      cell.append(detail);
    }
    if (detail) {
      detail.textContent = listener.detail || "";
    }
  }

  function render(status) {
    const readiness = document.getElementById("readiness");
    readiness.textContent = status.readiness;
    readiness.className = status.ready ? "ready" : "not-ready";
    for (const listener of status.listeners) {
      const row = rows.get(listener.name.toLowerCase());
      if (!row) {
        continue;
      }
      setState(row.querySelector("[data-field=state]"), listener);
      row.querySelector("[data-field=address]").textContent = listener.address;
      for (const field of fields) {
        setCount(row.querySelector(`[data-field=${field}]`), listener[field]);
      }
    }
    updated.textContent = "Updated " + new Date().toLocaleTimeString() + ".";
  }

  function schedule() {
    clearTimeout(timer);
    if (!paused && !document.hidden) {
      // After a failure, wait longer each time (up to 30 s) rather than hammer a host that is down.
      timer = setTimeout(poll, Math.min(intervalMs * 2 ** failures, maxIntervalMs));
    }
  }

  async function poll() {
    try {
      const response = await fetch("/status.json", { cache: "no-store", headers: { Accept: "application/json" } });
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      render(await response.json());
      if (failures > 0) {
        live.textContent = "";
      }
      failures = 0;
    } catch (error) {
      failures++;
      live.textContent = "Lost contact with the host (" + error.message + "); retrying.";
    }
    schedule();
  }

  pause.hidden = false;
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    if (paused) {
      clearTimeout(timer);
      updated.textContent = "Updates paused.";
    } else {
      poll();
    }
  });
  // A hidden tab does not poll; it catches up at once when shown again.
  document.addEventListener("visibilitychange", () => (document.hidden ? clearTimeout(timer) : !paused && poll()));

  poll();
})();
