// The dashboard's only script: swaps in the live region the server pushes (Server-Sent Events), refreshes
// an agent's screen about every second, and posts the team actions when the server allows them.
"use strict";
(() => {
  const connection = document.getElementById("connection");
  const setConnection = (text, state) => {
    connection.textContent = text;
    connection.className = "connection " + state;
  };

  const liveUrl = document.body.dataset.live;
  if (liveUrl) {
    const source = new EventSource(liveUrl);
    source.addEventListener("live", (event) => {
      const region = document.getElementById("live");
      if (region) region.innerHTML = event.data;
      setConnection("live", "up");
    });
    source.addEventListener("open", () => setConnection("live", "up"));
    source.addEventListener("error", () => setConnection("reconnecting…", "down"));
  }

  const screen = document.getElementById("screen");
  if (screen) {
    const info = document.getElementById("screen-status");
    const refresh = async () => {
      try {
        const reply = await fetch(screen.dataset.src, { cache: "no-store" });
        const body = await reply.json();
        if (reply.ok) {
          screen.textContent = body.lines.join("\n").replace(/\s+$/, "");
          screen.classList.remove("unavailable");
          info.textContent = `pane ${body.pane} · ${new Date(body.at * 1000).toLocaleTimeString()}`;
        } else {
          screen.classList.add("unavailable");
          info.textContent = body.error || reply.statusText;
        }
      } catch (error) {
        screen.classList.add("unavailable");
        info.textContent = "the dashboard does not answer";
      }
      setTimeout(refresh, 1000);
    };
    refresh();
  }

  const result = document.querySelector(".action-result");
  const post = async (namespace, team, verb, payload) => {
    const url = `/api/namespaces/${encodeURIComponent(namespace)}/teams/${encodeURIComponent(team)}/actions/${verb}`;
    const reply = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload || {}),
    });
    const body = await reply.json();
    result.textContent = reply.ok ? body.message : `${verb} refused: ${body.error}`;
    result.className = "action-result " + (reply.ok ? "ok" : "failed");
    return reply.ok;
  };
  document.querySelectorAll("button[data-action]").forEach((button) => {
    button.addEventListener("click", () => {
      const verb = button.dataset.action;
      if (verb !== "promote" && !window.confirm(`${verb} team ${button.dataset.team}?`)) return;
      post(button.dataset.namespace, button.dataset.team, verb);
    });
  });
  document.querySelectorAll("form.send").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const payload = { member: form.elements.member.value, text: form.elements.text.value };
      if (await post(form.dataset.namespace, form.dataset.team, "send", payload)) form.elements.text.value = "";
    });
  });
})();
