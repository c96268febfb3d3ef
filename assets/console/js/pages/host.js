// Host studio: create / go live / end, media credentials for the broadcasting app, room controls,
// battle invites, earnings and payouts.
import {clock, field, fmt, formValues, h, mount, showErrors, toast} from "../dom.js";
import {t} from "../i18n.js";
import {api, hasRole, idemKey, optional, session} from "../api.js";
import {socket} from "../ws.js";
import {hostInsights} from "../insights.js";

const KEY = "hb.hostStream";

export async function render(main) {
  const ws = socket();
  const off = [];
  const studio = h("section", {class: "card", id: "studio", "aria-labelledby": "studio-h"});
  const controls = h("section", {class: "card", id: "room-controls", "aria-labelledby": "controls-h", hidden: true});
  const battles = h("section", {class: "card", id: "battles", "aria-labelledby": "battles-h", hidden: true});
  const earnings = h("section", {class: "card", id: "earnings", "aria-labelledby": "earn-h"});
  const insights = h("section", {class: "card", id: "insights", "aria-labelledby": "insights-h", hidden: true});
  let stopInsights = null;
  mount(main, h("section", {class: "page"}, h("h1", null, t("host.title")),
    h("div", {class: "grid-2"}, studio, earnings), insights, controls, battles));
  let stream = null;
  let beat = null;
  let camera = null;   // the browser broadcast (Agora), if the host went live from this page

  async function current() {
    let id = null;
    try { id = localStorage.getItem(KEY); } catch { /* ignore */ }
    if (id) {
      try {
        const s = await api("GET", `/streams/${encodeURIComponent(id)}`);
        if (s.hostId === session.user.id && s.status !== "ended") return s;
      } catch { /* gone */ }
    }
    // A live stream of mine that this browser did not create (another tab or device).
    const live = await optional("GET", "/streams", {query: {limit: 100}});
    return live && live.items.find((s) => s.hostId === session.user.id) || null;
  }

  function remember(s) {
    stream = s;
    try { s ? localStorage.setItem(KEY, s.id) : localStorage.removeItem(KEY); } catch { /* ignore */ }
  }

  async function renderStudio() {
    if (!stream) {
      const form = h("form", {id: "create-stream-form"},
        h("h2", {id: "studio-h"}, t("host.new")),
        h("p", {class: "form-error", role: "alert"}),
        field(t("host.streamTitle"), {name: "title", id: "stream-title", required: true, maxlength: 200}),
        field(t("host.category"), {name: "category", id: "stream-category", maxlength: 60}),
        h("button", {type: "submit", class: "primary", id: "create-stream"}, t("host.create")));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const v = formValues(form);
        try {
          remember(await api("POST", "/streams", {body: {title: v.title, category: v.category || null}}));
          renderStudio();
        } catch (err) { showErrors(form, err); }
      });
      mount(studio, form);
      controls.hidden = true;
      battles.hidden = true;
      insights.hidden = true;
      return;
    }
    const live = stream.status === "live";
    mount(studio,
      h("h2", {id: "studio-h"}, stream.title),
      h("p", null, h("span", {class: "chip", id: "stream-status"}, live ? t("host.live") : t("host.pending")), " ",
        live && h("a", {href: `#/room/${encodeURIComponent(stream.id)}`, id: "open-room"}, t("host.openRoom"))),
      live ? h("button", {type: "button", class: "danger", id: "end-stream", onclick: end}, t("host.end"))
        : h("button", {type: "button", class: "primary", id: "go-live", onclick: start}, t("host.goLive")),
      live && h("div", {id: "media-box"}));
    if (live) {
      const media = stream.media || await optional("GET", `/streams/${stream.id}/media`).catch(() => null);
      showMedia(media);
      ws.join(stream.id);
      clearInterval(beat);
      beat = setInterval(() => api("POST", `/streams/${stream.id}/heartbeat`).catch(() => {}), 15000);
      controls.hidden = false;
      battles.hidden = false;
      renderControls();
      renderBattles();
      if (stopInsights) stopInsights();
      insights.hidden = false;
      stopInsights = hostInsights(insights, stream.id, ws);
    }
  }

  function showMedia(m) {
    const box = document.getElementById("media-box");
    if (!box || !m) return;
    const row = (k, v) => [h("dt", null, k), h("dd", null, h("code", null, v === null || v === undefined ? "—" : String(v)))];
    const copy = (text) => navigator.clipboard.writeText(text).then(() => toast(t("host.copied")), () => toast(t("host.copyFailed"), "error"));
    if (m.provider === "hls") {
      // The built-in video path: any RTMP encoder (OBS, Streamlabs, phone apps) sends to this server and key.
      const key = h("code", {class: "ingest-key", id: "ingest-key"}, m.streamKey || "");
      mount(box, h("h3", null, t("host.media")), h("p", {class: "muted"}, t("host.ingestHelp")),
        h("dl", {class: "media-token", id: "media-token"},
          row(t("host.provider"), "hls (RTMP)"), row(t("host.server"), m.ingestUrl),
          h("dt", null, t("host.streamKey")), h("dd", null, key)),
        h("div", {class: "row"},
          h("button", {type: "button", id: "show-key", onclick: () => key.classList.toggle("shown")}, t("host.showKey")),
          h("button", {type: "button", id: "copy-server", onclick: () => copy(m.ingestUrl)}, t("host.copyServer")),
          h("button", {type: "button", id: "copy-key", onclick: () => copy(m.streamKey)}, t("host.copyKey"))));
      return;
    }
    let cameraBox = null;
    if (m.provider === "agora" && m.appId) {
      // Going live from this browser: camera + microphone through Agora's Web SDK, with a preview.
      const preview = h("div", {id: "camera-preview", class: "camera-preview", hidden: true});
      const state = h("p", {id: "camera-state", class: "muted", "aria-live": "polite"});
      const go = h("button", {type: "button", class: "primary", id: "camera-live", onclick: async () => {
        go.disabled = true;
        preview.hidden = false;
        try {
          const {broadcast} = await import("../agora.js");
          camera = await broadcast(preview, m, (st) => { state.textContent = t(`host.camera.${st}`); });
        } catch (e) {
          state.textContent = `${t("host.camera.error")} (${e.message})`;
          go.disabled = false;
        }
      }}, t("host.cameraLive"));
      cameraBox = h("div", {class: "camera"}, go, state, preview);
    }
    mount(box, h("h3", null, t("host.media")), h("p", {class: "muted"}, t("host.mediaHelp")),
      h("dl", {class: "media-token", id: "media-token"},
        row(t("host.provider"), m.provider), row(t("host.channel"), m.channel), row("UID", m.uid),
        row(t("host.appId"), m.appId), row(t("host.token"), m.token), row(t("host.expires"), m.expiresAt)),
      m.token && h("button", {type: "button", onclick: () => navigator.clipboard.writeText(m.token)
        .then(() => toast(t("host.copied")), () => toast(t("host.copyFailed"), "error"))}, t("host.copy")));
    if (cameraBox) box.append(cameraBox);
  }

  async function start() {
    try {
      remember(await api("POST", `/streams/${stream.id}/start`));
      toast(t("host.nowLive"));
      renderStudio();
    } catch (e) { toast(e.message, "error"); }
  }

  async function end() {
    if (!confirm(t("host.endConfirm"))) return;
    try {
      const s = await api("POST", `/streams/${stream.id}/end`);
      clearInterval(beat);
      if (camera) { camera.stop(); camera = null; }
      ws.leave();
      remember(null);
      const a = s.analytics || {};
      toast(t("host.ended", {peak: fmt(a.peakViewers || 0), coins: fmt(a.totalCoins || s.totalCoins || 0)}));
      renderStudio();
      loadEarnings();
    } catch (e) { toast(e.message, "error"); }
  }

  // ---- room controls: chat settings + actions on recent chatters --------------------------------
  async function renderControls() {
    const slow = h("select", {id: "slow-mode", name: "slowModeSeconds"}, [0, 3, 5, 10, 30, 60].map((n) =>
      h("option", {value: n, selected: n === (stream.slowModeSeconds || 0)}, n ? t("host.everyN", {n}) : t("host.off"))));
    const chatOn = h("input", {type: "checkbox", id: "chat-enabled", checked: stream.chatEnabled !== false});
    const save = async () => {
      try {
        const res = await api("PATCH", `/streams/${stream.id}/chat`,
          {body: {slowModeSeconds: Number(slow.value), chatEnabled: chatOn.checked}});
        stream.slowModeSeconds = res.slowModeSeconds;
        stream.chatEnabled = res.chatEnabled;
        toast(t("host.saved"));
      } catch (e) { toast(e.message, "error"); }
    };
    slow.addEventListener("change", save);
    chatOn.addEventListener("change", save);
    const recent = h("div", {class: "table-wrap", id: "recent-chat"});
    mount(controls, h("h2", {id: "controls-h"}, t("host.controls")),
      h("div", {class: "inline-form"},
        h("div", {class: "field"}, h("label", {for: "slow-mode"}, t("host.slowMode")), slow),
        h("div", {class: "field check"}, chatOn, h("label", {for: "chat-enabled"}, t("host.chatOn")))),
      h("h3", null, t("host.recent")), recent,
      h("button", {type: "button", onclick: () => loadRecent(recent)}, t("host.refresh")));
    loadRecent(recent);
  }

  async function loadRecent(box) {
    const data = await api("GET", `/streams/${stream.id}/messages`, {query: {limit: 30}}).catch(() => ({items: []}));
    const items = data.items.filter((m) => m.status === "visible" || !m.status).slice(-30).reverse();
    if (!items.length) return mount(box, h("p", {class: "empty"}, t("host.noChat")));
    const act = (label, fn, cls) => h("button", {type: "button", class: `mini ${cls || ""}`, onclick: async () => {
      try { await fn(); toast(t("host.done")); loadRecent(box); } catch (e) { toast(e.message, "error"); }
    }}, label);
    const sid = stream.id;
    mount(box, h("table", null,
      h("thead", null, h("tr", null, h("th", {scope: "col"}, t("host.when")), h("th", {scope: "col"}, t("host.who")),
        h("th", {scope: "col"}, t("room.message")), h("th", {scope: "col"}, t("host.actions")))),
      h("tbody", null, items.map((m) => {
        const uid = m.user.id;
        const self = uid === session.user.id;
        return h("tr", {dataset: {user: m.user.username}},
          h("td", null, clock(m.ts)), h("td", null, m.user.username), h("td", null, m.text),
          h("td", {class: "row-actions"},
            act(t("mod.pin"), () => api("POST", `/streams/${sid}/pin`, {body: {messageId: m.id}})),
            act(t("mod.delete"), () => api("DELETE", `/streams/${sid}/messages/${m.id}`), "danger"),
            !self && act(t("host.makeMod"), () => api("POST", `/streams/${sid}/moderators`, {body: {userId: uid}}), "act-mod"),
            !self && act(t("mod.mute"), () => api("POST", `/streams/${sid}/mutes`, {body: {userId: uid, seconds: 300}}), "act-mute"),
            !self && act(t("mod.kick"), () => api("POST", `/streams/${sid}/kicks`, {body: {userId: uid}}), "act-kick"),
            !self && act(t("host.ban"), () => api("POST", `/streams/${sid}/bans`, {body: {userId: uid}}), "danger act-ban")));
      }))));
  }

  // ---- battles ---------------------------------------------------------------------------------
  async function renderBattles() {
    const list = h("ul", {id: "battle-targets", class: "plain-list"});
    const duration = h("select", {id: "battle-duration"}, [60, 180, 300, 600].map((n) =>
      h("option", {value: n, selected: n === 300}, t("host.minutes", {n: n / 60}))));
    mount(battles, h("h2", {id: "battles-h"}, t("host.battles")),
      h("div", {id: "battle-invites", "aria-live": "polite"}),
      h("div", {class: "field"}, h("label", {for: "battle-duration"}, t("host.duration")), duration), list);
    const live = await optional("GET", "/streams", {query: {limit: 50}});
    const others = live ? live.items.filter((s) => s.hostId !== session.user.id) : [];
    if (!others.length) return mount(list, h("li", {class: "empty"}, t("host.noOpponents")));
    mount(list, others.map((s) => h("li", null,
      h("span", null, `${s.title} (@${s.host ? s.host.username : "?"})`),
      h("button", {type: "button", class: "mini", onclick: async () => {
        try {
          await api("POST", "/battles", {body: {streamId: stream.id, opponentStreamId: s.id,
            durationSeconds: Number(duration.value)}});
          toast(t("host.invited"));
        } catch (e) { toast(e.message, "error"); }
      }}, t("host.invite")))));
  }
  off.push(ws.on("battle:invite", (b) => {
    const box = document.getElementById("battle-invites");
    if (!box) return;
    const answer = (verb) => async () => {
      try { await api("POST", `/battles/${encodeURIComponent(b.id)}/${verb}`); item.remove(); } catch (e) { toast(e.message, "error"); }
    };
    const item = h("div", {class: "notice", role: "alert"}, t("host.invitedBy"), " ",
      h("button", {type: "button", class: "primary", onclick: answer("accept")}, t("host.accept")), " ",
      h("button", {type: "button", onclick: answer("decline")}, t("host.decline")));
    box.append(item);
  }));

  // ---- earnings ----------------------------------------------------------------------------------
  async function loadEarnings() {
    const w = await api("GET", "/wallet");
    const form = h("form", {class: "inline-form", id: "payout-form"},
      h("p", {class: "form-error", role: "alert"}),
      field(t("host.payoutAmount"), {type: "number", name: "amount", id: "payout-amount", min: 1,
        max: w.earningsAvailable || 0, required: true}),
      h("button", {type: "submit", disabled: !w.earningsAvailable || !hasRole("host")}, t("host.payout")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await api("POST", "/wallet/payouts", {body: {amount: Number(formValues(form).amount)}, idem: idemKey()});
        toast(t("host.payoutAsked"));
        loadEarnings();
      } catch (err) { showErrors(form, err); }
    });
    mount(earnings, h("h2", {id: "earn-h"}, t("host.earnings")),
      h("div", {class: "stats"},
        h("div", {class: "stat", id: "earnings-held"}, h("span", {class: "n"}, fmt(w.earningsHeld || 0)),
          h("span", {class: "l"}, t("wallet.earningsHeld"))),
        h("div", {class: "stat", id: "earnings-available"}, h("span", {class: "n"}, fmt(w.earningsAvailable || 0)),
          h("span", {class: "l"}, t("wallet.earningsAvailable")))),
      h("p", {class: "muted"}, t("host.holdHelp")), hasRole("host") ? form : h("p", {class: "notice"}, t("host.notHost")));
  }

  remember(await current());
  await Promise.all([renderStudio(), loadEarnings()]);
  return () => {
    if (camera) camera.stop();
    clearInterval(beat);
    ws.leave();
    if (stopInsights) stopInsights();
    off.forEach((f) => f());
  };
}
