// A live room: stage (video, viewers, throne, battle bar, gift animations) and side pane
// (pinned message, chat over /ws, gift panel, top gifters). Two panes at >= 768 px, one below.
import {clock, fmt, h, mount, toast} from "../dom.js";
import {t} from "../i18n.js";
import {api, idemKey, optional, session} from "../api.js";
import {socket} from "../ws.js";
import {suggestedGifts} from "../insights.js";
import {play} from "../player.js";
import {watch} from "../agora.js";

const MAX_LINES = 200;

export async function render(main, r) {
  const streamId = r.args[0];
  const ws = socket();
  const off = [];
  let player = null;
  const state = {stream: null, you: null, canModerate: false, gifts: [], balance: null, lastGift: null,
    combo: 0, slow: 0, lastChatAt: 0};

  // ---- stage ---------------------------------------------------------------------------------
  const title = h("h1", {class: "room-title", id: "room-title"}, "…");
  const hostName = h("span", {class: "room-host", id: "room-host"});
  const viewers = h("span", {class: "chip viewers", id: "viewer-count", "aria-live": "off"}, t("room.viewers", {n: 0}));
  const throne = h("div", {class: "throne", id: "throne", role: "status", "aria-label": t("room.throne")},
    h("span", {class: "throne-icon", "aria-hidden": "true"}, "♛"), h("span", {class: "throne-name"}, t("room.throneEmpty")));
  const battle = h("div", {class: "battle", id: "battle-bar", hidden: true, role: "group", "aria-label": t("room.battle")});
  const layer = h("div", {class: "gift-layer", id: "gift-layer", "aria-hidden": "true"});
  const combo = h("div", {class: "combo", id: "combo", "aria-hidden": "true"});
  const ended = h("div", {class: "stage-ended", id: "stream-ended", hidden: true, role: "alert"});
  const media = h("p", {class: "stage-media", id: "stage-media"});
  const stage = h("section", {class: "stage", "aria-label": t("room.video")},
    h("div", {class: "stage-top"}, h("div", null, title, hostName), viewers),
    h("div", {class: "video", id: "video"}, h("div", {class: "video-avatar", id: "video-avatar", "aria-hidden": "true"}, "?"),
      media, layer, combo, ended),
    throne, battle);

  // ---- side: pinned, chat, gifts ---------------------------------------------------------------
  const pinned = h("div", {class: "pinned", id: "pinned", hidden: true, role: "note", "aria-label": t("room.pinned")});
  const log = h("ol", {class: "chat-log", id: "chat-log", role: "log", "aria-live": "polite",
    "aria-label": t("room.chat"), tabindex: 0});
  const input = h("input", {id: "chat-input", name: "text", autocomplete: "off", maxlength: 500,
    placeholder: t("room.say"), "aria-describedby": "chat-status"});
  const status = h("p", {class: "chat-status", id: "chat-status", "aria-live": "polite"});
  const chatForm = h("form", {class: "chat-form", id: "chat-form"},
    h("label", {for: "chat-input", class: "sr-only"}, t("room.message")), input,
    h("button", {type: "submit", id: "chat-send"}, t("room.send")));
  const balance = h("span", {class: "balance", id: "gift-balance"});
  const qty = h("select", {id: "gift-qty", "aria-label": t("room.quantity")},
    [1, 5, 10, 99].map((n) => h("option", {value: n}, `×${n}`)));
  const giftGrid = h("div", {class: "gift-grid", id: "gift-grid", role: "group", "aria-label": t("room.gifts")});
  const board = h("ol", {class: "leaders", id: "leaders"});
  const side = h("aside", {class: "side", "aria-label": t("room.side")},
    pinned,
    h("section", {class: "chat", "aria-labelledby": "chat-h"}, h("h2", {id: "chat-h", class: "sr-only"}, t("room.chat")),
      log, chatForm, status),
    h("section", {class: "gifts", "aria-labelledby": "gifts-h"},
      h("div", {class: "gifts-head"}, h("h2", {id: "gifts-h"}, t("room.gifts")), balance, qty),
      h("div", {id: "suggested-gifts", hidden: true}), giftGrid),
    h("details", {class: "leaders-box"}, h("summary", null, t("room.topGifters")), board));
  const room = h("div", {class: "room", id: "room"}, stage, side);
  mount(main, room);

  // ---- rendering helpers ---------------------------------------------------------------------
  function setViewers(n) { viewers.textContent = t("room.viewers", {n: fmt(n || 0)}); }
  function setThrone(d) {
    const name = throne.querySelector(".throne-name");
    name.textContent = d && d.username ? t("room.throneHolder", {name: d.username, coins: fmt(d.coins)}) : t("room.throneEmpty");
    throne.classList.toggle("held", !!(d && d.username));
  }
  function setBalance(w) {
    if (!w) return;
    state.balance = w;
    balance.textContent = t("room.balance", {n: fmt((w.balance || 0) + (w.bonusBalance || 0))});
  }
  function setPinned(m) {
    pinned.hidden = !(m && m.text);
    if (m && m.text) mount(pinned, h("span", {class: "pin-icon", "aria-hidden": "true"}, "📌"),
      h("b", null, m.user ? m.user.username : ""), ": ", m.text);
  }
  function setBattle(b) {
    if (!b || ["finished", "declined", "cancelled", "invited"].includes(b.status)) {
      battle.hidden = true;
      return;
    }
    // scores are keyed by stream id: ours on the left, the opponent's on the right.
    const scores = b.scores || {};
    const a = scores[streamId] || 0;
    const other = Object.entries(scores).find(([k]) => k !== streamId);
    const c = other ? other[1] : 0;
    const total = a + c;
    const pct = total ? Math.round(100 * a / total) : 50;
    battle.hidden = false;
    mount(battle,
      h("span", {class: "battle-label"}, t("room.battle"), b.multiplier > 1 ? ` ×${b.multiplier}` : ""),
      h("div", {class: "battle-track", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct,
        "aria-label": t("room.battleScore", {a: fmt(a), b: fmt(c)})},
      h("div", {class: "battle-a"}), h("div", {class: "battle-b"})),
      h("span", {class: "battle-score", id: "battle-score"}, `${fmt(a)} : ${fmt(c)}`));
    // Width through the CSSOM (allowed under style-src 'self'; no inline style attribute).
    battle.querySelector(".battle-a").style.width = `${pct}%`;
  }
  function line(node) {
    log.append(node);
    while (log.children.length > MAX_LINES) log.firstElementChild.remove();
    log.scrollTop = log.scrollHeight;
  }
  function chatLine(m) {
    const actions = modActions(m);
    return h("li", {class: ["msg", m.user && m.user.ogLevel ? `og og${m.user.ogLevel}` : ""], id: `msg-${m.id}`,
      dataset: {id: m.id, user: m.user ? m.user.id : ""}},
    h("time", {datetime: m.ts || ""}, clock(m.ts)), " ",
    m.user && m.user.ogLevel ? h("span", {class: "og-badge", title: `OG ${m.user.ogLevel}`}, `OG${m.user.ogLevel}`) : null,
    h("b", {class: "msg-user"}, m.user ? m.user.username : "?"), " ",
    h("span", {class: "msg-text"}, m.text),
    actions);
  }
  function systemLine(text, kind = "system") {
    line(h("li", {class: `msg ${kind}`}, text));
  }
  function modActions(m) {
    const mine = session.user && m.user && m.user.id === session.user.id;
    const btn = (label, fn, cls) => h("button", {type: "button", class: `mini ${cls}`, onclick: fn}, label);
    return h("span", {class: "msg-actions"},
      (state.canModerate || mine) && btn(t("mod.delete"), () => act(() => api("DELETE", `/streams/${streamId}/messages/${m.id}`)), "act-delete"),
      !mine && btn(t("mod.report"), () => act(() => api("POST", "/reports",
        {body: {type: "message", targetId: m.id, reason: "chat"}}), t("mod.reported")), "act-report"),
      state.canModerate && btn(t("mod.pin"), () => act(() => api("POST", `/streams/${streamId}/pin`,
        {body: {messageId: m.id}})), "act-pin"),
      state.canModerate && !mine && btn(t("mod.mute"), () => act(() => api("POST", `/streams/${streamId}/mutes`,
        {body: {userId: m.user.id, seconds: 300}}), t("mod.muted", {name: m.user.username})), "act-mute"),
      state.canModerate && !mine && btn(t("mod.kick"), () => act(() => api("POST", `/streams/${streamId}/kicks`,
        {body: {userId: m.user.id}}), t("mod.kicked", {name: m.user.username})), "act-kick"));
  }
  async function act(fn, ok) {
    try { await fn(); if (ok) toast(ok); } catch (e) { toast(e.message, "error"); }
  }
  function animateGift(d) {
    const big = d.animation === "legendary" ? "legendary" : d.animation === "premium" ? "premium" : "basic";
    const fx = h("div", {class: `gift-fx ${big}`},
      h("img", {src: d.art, alt: "", width: 96, height: 96}),
      h("span", {class: "gift-fx-label"}, `${d.senderName} · ${d.giftName} ×${d.quantity}`));
    layer.append(fx);
    fx.addEventListener("animationend", () => fx.remove());
    setTimeout(() => fx.remove(), 5000);
    if ((d.combo || 0) > 1) {
      mount(combo, h("span", {class: "combo-n"}, `×${d.combo}`), " ", t("room.combo"));
      combo.classList.remove("pop");
      void combo.offsetWidth;   // restart the CSS animation
      combo.classList.add("pop");
    }
  }
  async function loadLeaders() {
    try {
      const data = await api("GET", `/streams/${streamId}/leaderboard`);
      mount(board, data.items.length ? data.items.slice(0, 10).map((x) =>
        h("li", null, h("span", null, x.username), h("span", {class: "coins"}, fmt(x.coins)))) :
        h("li", {class: "empty"}, t("room.noGifters")));
      if (data.items[0] && !throne.classList.contains("held")) setThrone(data.items[0]);
    } catch { /* leaderboard is optional */ }
  }

  // ---- socket events -------------------------------------------------------------------------
  const on = (e, fn) => off.push(ws.on(e, (d) => { if (!d || !d.streamId || d.streamId === streamId) fn(d || {}); }));
  on("stream:state", (d) => {
    const s = d.stream || {};
    state.stream = s;
    state.you = d.you || null;
    state.canModerate = !!(d.you && d.you.canModerate);
    room.classList.toggle("can-moderate", state.canModerate);
    title.textContent = s.title || "";
    hostName.textContent = s.host ? `@${s.host.username}` : "";
    document.getElementById("video-avatar").textContent = (s.host ? s.host.username[0] : "?").toUpperCase();
    setViewers(s.viewers);
    setThrone(s.throne);
    setPinned(d.pinned);
    setBattle(d.battle);
    state.slow = s.slowModeSeconds || 0;
    settings({slowModeSeconds: s.slowModeSeconds, chatEnabled: s.chatEnabled});
    mount(log, (d.recentChat || []).map(chatLine));
    log.scrollTop = log.scrollHeight;
  });
  on("stream:join", (d) => setViewers(d.viewers));
  on("stream:leave", (d) => setViewers(d.viewers));
  on("metrics:update", (d) => setViewers(d.viewers));
  on("chat:new", (m) => line(chatLine(m)));
  on("chat:deleted", (d) => {
    const el = document.getElementById(`msg-${d.messageId}`);
    if (el) { el.classList.add("deleted"); mount(el, h("i", null, t("room.deleted"))); }
  });
  on("chat:pinned", (d) => setPinned(d.message));
  on("gift:sent", (d) => {
    animateGift(d);
    systemLine(t("room.giftLine", {name: d.senderName, gift: d.giftName, n: d.quantity}), "gift-line");
    loadLeaders();
  });
  on("throne:claimed", (d) => {
    setThrone(d);
    systemLine(t("room.throneClaimed", {name: d.username}), "throne-line");
  });
  // Battle events name both streams; keep those that concern this room.
  const ours = (d) => d && ((d.scores && streamId in d.scores) || (d.streams || []).includes(streamId));
  for (const e of ["battle:start", "battle:score", "battle:boost"]) {
    off.push(ws.on(e, (d) => { if (ours(d)) setBattle({status: "active", ...d}); }));
  }
  off.push(ws.on("battle:end", (d) => {
    if (!ours(d)) return;
    setBattle(null);
    const won = d.winnerStreamId === streamId ? t("room.battleWon") : d.winnerStreamId ? t("room.battleLost") : t("room.battleDraw");
    systemLine(`${t("room.battleEnded")} ${won}`);
  }));
  on("room:settings", settings);
  on("stream:ended", () => {
    if (player) { player.destroy(); player = null; }
    ended.hidden = false;
    mount(ended, h("p", null, t("room.ended")), replayLink(), h("a", {href: "#/live", class: "button-link"}, t("nav.live")));
    input.disabled = true;
  });
  off.push(ws.on("ai:warning", (d) => {
    status.textContent = d.blocked ? t("room.blocked") : t("room.warned");
    status.className = "chat-status warn";
  }));
  off.push(ws.on("room:sanction", (d) => {
    if (d.streamId !== streamId) return;
    const msg = t(`room.sanction.${d.action}`);
    toast(msg, "error");
    status.textContent = msg;
    if (d.action !== "muted") {
      input.disabled = true;
      ended.hidden = false;
      mount(ended, h("p", null, msg), h("a", {href: "#/live", class: "button-link"}, t("nav.live")));
    }
  }));
  off.push(ws.on("og:changed", (d) => {
    if (session.user && d.userId === session.user.id) toast(t("og.changed", {n: d.ogLevel}));
  }));
  off.push(ws.on("error", (d) => {
    if (d.code === "not_live" || d.code === "not_found") {
      ended.hidden = false;
      mount(ended, h("p", null, d.message), h("a", {href: "#/live", class: "button-link"}, t("nav.live")));
      return;
    }
    status.textContent = d.message || d.code;
    status.className = "chat-status error";
  }));
  off.push(ws.on("connection", (d) => {
    room.classList.toggle("offline", !d.up);
    if (!d.up) status.textContent = t("room.reconnecting");
    else if (status.textContent === t("room.reconnecting")) status.textContent = "";
  }));

  function settings(d) {
    if (d.slowModeSeconds !== undefined && d.slowModeSeconds !== null) state.slow = d.slowModeSeconds;
    const off = d.chatEnabled === false;
    input.disabled = off;
    const notes = [];
    if (off) notes.push(t("room.chatOff"));
    if (state.slow) notes.push(t("room.slowMode", {n: state.slow}));
    status.textContent = notes.join(" · ");
    status.className = "chat-status";
  }

  chatForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (state.slow && Date.now() - state.lastChatAt < state.slow * 1000) {
      status.textContent = t("room.slowWait", {n: Math.ceil(state.slow - (Date.now() - state.lastChatAt) / 1000)});
      return;
    }
    state.lastChatAt = Date.now();
    ws.send("chat:new", {streamId, text});
    input.value = "";
    status.textContent = "";
  });

  async function sendGift(g, button) {
    const quantity = Number(qty.value) || 1;
    button.disabled = true;
    try {
      const res = await api("POST", `/streams/${streamId}/gifts`, {body: {giftId: g.id, quantity}, idem: idemKey()});
      setBalance(res.wallet);
    } catch (e) {
      if (e.code === "insufficient_funds" || e.code === "insufficient_coins" || e.status === 409 && /coin/i.test(e.message)) {
        toast(t("room.needCoins"), "error");
      } else toast(e.message, "error");
    } finally {
      button.disabled = false;
      button.focus();
    }
  }

  // ---- load ----------------------------------------------------------------------------------
  try {
    const s = await api("GET", `/streams/${streamId}`);
    title.textContent = s.title;
    hostName.textContent = s.host ? `@${s.host.username}` : "";
    setViewers(s.viewers);
    setThrone(s.throne);
    if (s.status !== "live") {
      ended.hidden = false;
      mount(ended, h("p", null, s.status === "ended" ? t("room.ended") : t("room.notLive")),
        s.status === "ended" && replayLink(), h("a", {href: "#/live", class: "button-link"}, t("nav.live")));
    }
  } catch (e) {
    mount(main, h("section", {class: "page"}, h("h1", null, t("room.missing")), h("p", null, e.message),
      h("a", {href: "#/live"}, t("nav.live"))));
    return () => off.forEach((f) => f());
  }
  ws.join(streamId);
  const [gifts, wallet, mediaInfo] = await Promise.all([
    api("GET", "/gifts").catch(() => ({items: []})),
    api("GET", "/wallet").catch(() => null),
    optional("GET", `/streams/${streamId}/media`).catch(() => null),
  ]);
  setBalance(wallet);
  showVideo(mediaInfo);
  const myOg = (session.user && session.user.ogLevel) || 0;
  mount(giftGrid, gifts.items.map((g) => {
    const locked = g.ogMinLevel > myOg;
    const b = h("button", {type: "button", class: ["gift", locked && "locked", g.animation], id: `gift-${g.id}`,
      disabled: locked, "aria-label": t("room.sendGift", {gift: g.name, price: g.price}) +
        (locked ? ` (${t("room.ogOnly", {n: g.ogMinLevel})})` : "")},
    h("img", {src: g.art, alt: "", width: 40, height: 40, loading: "lazy"}),
    h("span", {class: "gift-name"}, g.name), h("span", {class: "gift-price"}, fmt(g.price)));
    b.addEventListener("click", () => sendGift(g, b));
    return b;
  }));
  loadLeaders();
  const suggested = document.getElementById("suggested-gifts");
  if (suggested) suggestedGifts(suggested, streamId, (id) => document.getElementById(`gift-${id}`));

  return () => {
    if (player) player.destroy();
    ws.leave();
    off.forEach((f) => f());
  };

  // Agora: the SDK plays the host's tracks into a box on the stage (audience role, subscriber token).
  function showAgora(m) {
    const box = h("div", {id: "agora-video", class: "stream-video", "aria-label": t("room.video")});
    document.getElementById("video-avatar").hidden = true;
    document.getElementById("video").prepend(box);
    const states = {connecting: t("room.mediaWaiting"), error: t("room.mediaAgoraError"), playing: ""};
    watch(box, m, (st) => { media.textContent = states[st] ?? ""; })
      .then((p) => { player = p; }, () => { media.textContent = t("room.mediaAgoraError"); });
  }

  function replayLink() {
    return h("a", {href: `#/replay/${encodeURIComponent(streamId)}`, class: "button-link", id: "replay-link"}, t("room.replay"));
  }

  // The built-in video path (provider hls) plays here; other providers only say what carries the video.
  function showVideo(m) {
    if (!m || !m.provider || m.provider === "none") { media.textContent = t("room.mediaNone"); return; }
    if (m.provider === "agora" && m.appId) { showAgora(m); return; }
    if (m.provider !== "hls" || !m.playbackUrl) { media.textContent = t("room.mediaApp", {provider: m.provider}); return; }
    const video = h("video", {id: "stream-video", class: "stream-video", autoplay: true, playsinline: true,
      controls: true, muted: true, "aria-label": t("room.video")});
    video.muted = true;   // browsers start muted video on their own; the controls unmute it
    document.getElementById("video-avatar").hidden = true;
    document.getElementById("video").prepend(video);
    player = play(video, m.playbackUrl, {onState: (st) => {
      media.textContent = st === "waiting" ? t("room.mediaWaiting") : st === "error" ? t("room.mediaError") : "";
    }});
  }
}
