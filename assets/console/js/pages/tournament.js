// A tournament's bracket: columns per bracket and round, your ready match's puzzle, places and prizes.
import {field, fmt, formValues, h, mount, showErrors, toast, when} from "../dom.js";
import {api, idemKey, session} from "../api.js";
import {gt} from "../games/strings.js";

export async function render(main, r) {
  const id = r.args[0];
  const head = h("div", {id: "tournament-head"});
  const mine = h("div", {id: "my-match", "aria-live": "polite"});
  const board = h("div", {class: "bracket", id: "bracket"});
  mount(main, h("section", {class: "page"}, head, mine,
    h("section", {class: "card", "aria-labelledby": "br-h"}, h("h2", {id: "br-h"}, gt("bracket")), board)));
  let last = "";

  async function refresh() {
    const t = await api("GET", `/tournaments/${id}`);
    const key = JSON.stringify([t.status, t.players.length, t.matches.map((m) => m.status + m.winner)]);
    if (key === last) return;
    last = key;
    const names = Object.fromEntries(t.players.map((p) => [p.userId, `${p.username}${p.seed ? ` (#${p.seed})` : ""}`]));
    const me = session.user && t.players.find((p) => p.userId === session.user.id);
    mount(head, h("h1", null, t.name), h("p", null, `${t.format} · ${t.status} · `, gt("pot", {n: fmt(t.pot)}),
      " · ", when(t.startsAt)),
    h("p", {class: "mono"}, gt("seedHash"), ": ", h("code", null, t.seedHash)),
    t.status === "registering" && session.user && !me && h("button", {type: "button", class: "primary",
      id: "register-tournament", onclick: async () => {
        try { await api("POST", `/tournaments/${id}/register`, {body: {}, idem: idemKey()}); last = ""; refresh(); }
        catch (err) { toast(err.message, "error"); }
      }}, gt("register", {n: fmt(t.entryFee)})),
    t.players.some((p) => p.place) && h("ol", {id: "places"}, t.players.filter((p) => p.place)
      .sort((a, b) => a.place - b.place).map((p) => h("li", null, `${p.username}: ${fmt(p.payout || 0)}`))));
    const ready = me && t.matches.find((m) => m.status === "ready" && (m.a === me.userId || m.b === me.userId));
    mount(mine, ready ? matchForm(ready) : null);
    const columns = {};
    for (const m of t.matches) (columns[`${m.bracket}${m.round}`] ||= []).push(m);
    mount(board, Object.entries(columns).map(([col, ms]) => h("div", {class: "bracket-round"},
      h("h3", null, col), ms.map((m) => h("div", {class: ["match", m.status], id: `match-${m.match}`},
        [m.a, m.b].map((p) => h("div", {class: p && p === m.winner ? "win" : null},
          p ? names[p] || p : (m.status === "done" ? gt("bye") : "…"))),
        m.how && h("small", null, m.how))))));
  }

  function matchForm(m) {
    const form = h("form", {class: "inline-form", id: "match-form", onsubmit: async (e) => {
      e.preventDefault();
      try {
        const out = await api("POST", `/tournaments/${id}/matches/${m.match}/answer`,
          {body: {nonce: `m${m.match}-${Date.now().toString(36)}`, answer: Number(formValues(form).answer)}});
        toast(out.won ? gt("winner") : "✗");
        last = "";
        refresh();
      } catch (err) { showErrors(form, err); }
    }}, h("p", {id: "match-puzzle"}, gt("yourMatch", {text: m.puzzle})),
    field(gt("answer"), {name: "answer", id: "match-answer", type: "number", required: true}),
    h("button", {type: "submit", class: "primary", id: "match-send"}, gt("send")),
    h("p", {class: "form-error", role: "alert"}));
    return form;
  }

  await refresh();
  const timer = setInterval(() => refresh().catch(() => {}), 1500);
  return () => clearInterval(timer);
}
