// One round: join (entry, team, tickets), the timed questions or the puzzle, the result, and
// the proof checked in this browser with WebCrypto. Polls the round; live rooms also push game:*.
import {field, fmt, formValues, h, mount, showErrors, toast, when} from "../dom.js";
import {lang} from "../i18n.js";
import {api, idemKey, session} from "../api.js";
import {gt} from "../games/strings.js";
import {checkProof} from "../games/proof.js";

let nonceSeq = 0;
function nonce() { return `n${Date.now().toString(36)}${(++nonceSeq).toString(36)}${Math.random().toString(36).slice(2, 8)}`; }

export async function render(main, r) {
  const id = r.args[0];
  const head = h("div", {id: "round-head"});
  const play = h("div", {id: "round-play", "aria-live": "polite"});
  const proof = h("div", {id: "round-proof"});
  mount(main, h("section", {class: "page"}, h("h1", null, gt("round")), head, play,
    h("section", {class: "card", "aria-labelledby": "proof-h"}, h("h2", {id: "proof-h"}, gt("verify")), proof)));
  const answered = new Set();
  let last = "";

  async function refresh() {
    const g = await api("GET", `/games/rounds/${id}`);
    const key = JSON.stringify([g.status, g.entries, (g.questions || []).length, g.puzzle?.text, g.nextAt]);
    mount(head, h("p", {id: "round-status"}, `${g.game} · `, gt("status", {s: g.status}), " · ",
      gt("pot", {n: fmt(g.pot ?? 0)}), " · ", gt("players", {n: g.players})),
    g.aiWinRate !== null && h("p", {class: "muted"}, gt("p", {p: Math.round(g.aiWinRate * 100)})),
    h("p", {class: "mono"}, gt("seedHash"), ": ", h("code", {id: "seed-hash"}, g.seedHash)),
    g.serverSeed && h("p", {class: "mono"}, gt("serverSeed"), ": ", h("code", {id: "server-seed"}, g.serverSeed)));
    if (key === last) return g;
    last = key;
    mount(play, ...playArea(g));
    if (g.serverSeed) mount(proof, h("button", {type: "button", id: "verify-proof", onclick: verify}, gt("verify")),
      h("p", {id: "proof-result", role: "status"}));
    else mount(proof, h("p", {class: "muted"}, gt("notRevealed")));
    return g;
  }

  function playArea(g) {
    const out = [];
    if (g.status === "open" && session.user && g.game !== "challenge") out.push(joinForm(g));
    if (g.game === "lottery") out.push(h("p", null, gt("drawsAt", {t: when(g.drawsAt)})));
    if (g.puzzle && g.status === "running") out.push(puzzleForm(g));
    for (const q of g.questions || []) out.push(questionCard(g, q));
    if (g.outcome) out.push(h("div", {class: "card", id: "round-result"}, h("h2", null, gt("result")),
      g.outcome.payouts && session.user && g.outcome.payouts[session.user.id]
        ? h("p", {class: "won"}, gt("youWon", {n: fmt(g.outcome.payouts[session.user.id])})) : null,
      h("p", null, g.resolution),
      g.outcome.payouts && h("ul", null, Object.entries(g.outcome.payouts).map(([u, n]) => h("li", null, `${u}: ${fmt(n)}`)))));
    return out;
  }

  function joinForm(g) {
    const form = h("form", {class: "inline-form", id: "join-form", onsubmit: async (e) => {
      e.preventDefault();
      const v = formValues(form);
      const body = {clientSeed: v.clientSeed || null};
      if (g.game === "battle") body.team = v.team;
      if (g.game === "lottery") body.count = Number(v.count || 1);
      try {
        await api("POST", `/games/rounds/${id}/join`, {body, idem: idemKey()});
        toast(gt("join", {n: fmt(g.stake * (body.count || 1))}));
        refresh();
      } catch (err) { showErrors(form, err); }
    }},
    g.game === "battle" && field(gt("team"), {name: "team", id: "join-team", options: [["a", gt("teamA")], ["b", gt("teamB")]]}),
    g.game === "lottery" && field(gt("tickets"), {name: "count", id: "join-count", type: "number", min: 1, max: 1000, value: 1}),
    field("Client seed", {name: "clientSeed", id: "join-seed", maxlength: 64}),
    h("button", {type: "submit", class: "primary", id: "join-round"},
      g.game === "lottery" ? gt("buy", {n: fmt(g.stake)}) : gt("join", {n: fmt(g.stake)})),
    h("p", {class: "form-error", role: "alert"}));
    return form;
  }

  function puzzleForm(g) {
    const form = h("form", {class: "inline-form", id: "puzzle-form", onsubmit: async (e) => {
      e.preventDefault();
      try {
        const out = await api("POST", `/games/rounds/${id}/answer`,
          {body: {nonce: nonce(), answer: Number(formValues(form).answer)}});
        toast(out.solved ? (out.aiWon ? "AI" : gt("youWon", {n: fmt(Object.values(out.payouts)[0] || 0)})) : "✗");
        refresh();
      } catch (err) { showErrors(form, err); }
    }}, h("p", {id: "puzzle-text", class: "puzzle"}, gt("puzzle", {text: g.puzzle.text})),
    field(gt("answer"), {name: "answer", id: "puzzle-answer", type: "number", required: true}),
    h("button", {type: "submit", class: "primary", id: "puzzle-send"}, gt("send")),
    h("p", {class: "form-error", role: "alert"}));
    return form;
  }

  function questionCard(g, q) {
    const text = q[lang()] || q.en;
    const open = g.status === "running" && new Date(q.closesAt) > new Date() && !answered.has(q.index);
    return h("div", {class: "card question", id: `q-${q.index}`},
      h("h3", null, gt("question", {n: q.index + 1}), " · ", text.q),
      h("div", {class: "row-actions"}, text.options.map((o, i) => h("button", {type: "button",
        id: `q-${q.index}-opt-${i}`, class: q.answer === i ? "right" : null, disabled: !open,
        onclick: async () => {
          answered.add(q.index);
          try {
            await api("POST", `/games/rounds/${id}/answer`, {body: {nonce: nonce(), question: q.index, choice: i}});
          } catch (err) { toast(err.message, "error"); }
          last = "";
          refresh();
        }}, o))));
  }

  async function verify() {
    const out = document.getElementById("proof-result");
    const p = await api("GET", `/games/rounds/${id}/proof`);
    const res = await checkProof(p);
    out.textContent = res.ok ? gt("verified", {n: res.checked}) : gt("verifyFailed", {why: res.problems.join("; ")});
    out.className = res.ok ? "ok" : "error";
  }

  await refresh();
  const timer = setInterval(() => refresh().catch(() => {}), 1000);
  return () => clearInterval(timer);
}
