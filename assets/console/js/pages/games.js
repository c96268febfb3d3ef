// Games lobby: the games with their published AI win rate, your compliance pack, rounds you can
// join, a new challenge, lotteries, tournaments and finished rounds (each with its proof check).
import {field, fmt, formValues, h, mount, showErrors, toast, when} from "../dom.js";
import {api, idemKey, session} from "../api.js";
import {go} from "../app.js";
import {gt} from "../games/strings.js";

export async function render(main) {
  const games = h("ul", {class: "cards", id: "game-list"});
  const pack = h("div", {id: "compliance"});
  const live = h("div", {id: "live-rounds", "aria-live": "polite"});
  const done = h("div", {id: "done-rounds"});
  const cups = h("div", {id: "tournament-list"});
  mount(main, h("section", {class: "page"},
    h("h1", null, gt("lobby")), pack, games,
    h("section", {class: "card", "aria-labelledby": "ch-h"}, h("h2", {id: "ch-h"}, gt("newChallenge")), challengeForm()),
    h("section", {class: "card", "aria-labelledby": "live-h"}, h("h2", {id: "live-h"}, gt("live")), live),
    h("section", {class: "card", "aria-labelledby": "cup-h"}, h("h2", {id: "cup-h"}, gt("tournaments")), cups),
    h("section", {class: "card", "aria-labelledby": "done-h"}, h("h2", {id: "done-h"}, gt("recent")), done)));

  const [lobby, open, finished, tours] = await Promise.all([
    api("GET", "/games"), api("GET", "/games/rounds", {query: {status: "live", limit: 30}}),
    api("GET", "/games/rounds", {query: {status: "settled", limit: 15}}), api("GET", "/tournaments")]);
  mount(games, lobby.items.map((g) => h("li", {class: "card game", id: `game-${g.game}`},
    h("h2", null, g.game), h("p", null, g.description),
    h("p", {class: "muted"}, g.chance ? gt("chance") : gt("skill"), " · ", gt("house", {h: g.houseShare * 100})),
    g.aiWinRate !== null && h("p", {class: "p-rate"}, gt("p", {p: Math.round(g.aiWinRate * 100)})),
    g.allowed === false && h("p", {class: "notice", role: "note"}, gt("notAllowed", {why: g.refusal})))));
  if (session.user) {
    const c = await api("GET", "/compliance");
    mount(pack, h("p", {class: "muted", id: "my-pack"}, gt("pack", {cc: c.country}), ": ",
      gt("maxStake", {n: fmt(c.maxStake)}), " · ", gt("lossLimit", {n: fmt(c.dailyLossLimit)})));
  }
  mount(live, open.items.length ? roundTable(open.items) : h("p", {class: "empty"}, gt("none")));
  mount(done, finished.items.length ? roundTable(finished.items) : h("p", {class: "empty"}, gt("none")));
  mount(cups, tours.items.length ? h("ul", null, tours.items.map((x) => h("li", null,
    h("a", {href: `#/tournament/${x.id}`}, x.name), ` · ${x.format} · ${x.status} · `, gt("players", {n: x.players}))))
    : h("p", {class: "empty"}, gt("none")));
}

function roundTable(items) {
  return h("table", null, h("thead", null, h("tr", null, [gt("game"), gt("state"), gt("pot", {n: ""}), ""].map((x) =>
    h("th", {scope: "col"}, x.trim())))),
  h("tbody", null, items.map((r) => h("tr", {dataset: {id: r.id}},
    h("td", null, r.game), h("td", null, r.status, r.drawsAt ? ` · ${when(r.drawsAt)}` : ""),
    h("td", {class: "num"}, fmt(r.pot ?? r.outcome?.pool ?? "")),
    h("td", null, h("a", {href: `#/game/${r.id}`, id: `open-${r.id}`}, gt("open")))))));
}

function challengeForm() {
  const form = h("form", {class: "inline-form", id: "challenge-form", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const v = formValues(form);
      const r = await api("POST", "/games/rounds", {body: {game: "challenge", stake: Number(v.stake)}});
      await api("POST", `/games/rounds/${r.id}/join`, {body: {clientSeed: v.clientSeed || null}, idem: idemKey()});
      go(`/game/${r.id}`);
    } catch (err) { showErrors(form, err); toast(err.message, "error"); }
  }}, field(gt("stake"), {name: "stake", type: "number", min: 1, value: 10, required: true, id: "challenge-stake"}),
  field("Client seed", {name: "clientSeed", id: "challenge-seed", maxlength: 64}),
  h("button", {type: "submit", class: "primary", id: "challenge-start"}, gt("start")),
  h("p", {class: "form-error", role: "alert"}));
  return form;
}
