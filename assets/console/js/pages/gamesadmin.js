// Admin: each game's AI win rate (refused outside 35–55 % by the server) and house share, the
// win-rate report with 99 % Wilson intervals, and new lotteries and tournaments.
import {field, fmt, formValues, h, mount, showErrors, toast} from "../dom.js";
import {api} from "../api.js";
import {go} from "../app.js";
import {gt} from "../games/strings.js";

export async function render(main) {
  const settings = h("div", {id: "game-settings"});
  const report = h("div", {class: "table-wrap", id: "win-report"});
  mount(main, h("section", {class: "page"}, h("h1", null, gt("admin")), settings,
    h("section", {class: "card", "aria-labelledby": "rep-h"}, h("h2", {id: "rep-h"}, gt("report")), report),
    h("section", {class: "card", "aria-labelledby": "lot-h"}, h("h2", {id: "lot-h"}, gt("newLottery")), lotteryForm()),
    h("section", {class: "card", "aria-labelledby": "tn-h"}, h("h2", {id: "tn-h"}, gt("newTournament")), tournamentForm())));
  const lobby = await api("GET", "/games");
  mount(settings, lobby.items.map((g) => settingsForm(g)));
  const rep = await api("GET", "/admin/games/report");
  mount(report, h("table", {id: "report-table"}, h("thead", null, h("tr", null,
    ["", gt("window"), gt("configured"), gt("rounds"), gt("observed"), gt("interval"), ""].map((x) => h("th", {scope: "col"}, x)))),
  h("tbody", null, rep.items.map((row) => h("tr", {class: row.outOfBand ? "alert" : null},
    h("td", null, row.game), h("td", null, row.window), h("td", {class: "num"}, row.configuredP.toFixed(2)),
    h("td", {class: "num"}, fmt(row.rounds)), h("td", {class: "num"}, row.observed === null ? "–" : row.observed.toFixed(4)),
    h("td", null, `[${row.wilson99[0].toFixed(4)}, ${row.wilson99[1].toFixed(4)}]`),
    h("td", null, row.outOfBand ? gt("outOfBand") : row.rounds ? gt("ok") : gt("noRounds")))))));
}

function settingsForm(g) {
  const form = h("form", {class: "card inline-form", id: `settings-${g.game}`, onsubmit: async (e) => {
    e.preventDefault();
    const v = formValues(form);
    const body = {houseShare: Number(v.houseShare)};
    if (v.aiWinRate !== undefined) body.aiWinRate = Number(v.aiWinRate);
    try { await api("PUT", `/admin/games/settings/${g.game}`, {body}); toast(gt("saved")); }
    catch (err) { showErrors(form, err); }
  }}, h("h2", null, g.game),
  g.aiWinRate !== null && field(gt("aiWinRate"), {name: "aiWinRate", id: `p-${g.game}`, type: "number", step: "0.01",
    value: g.aiWinRate}),
  field(gt("houseShare"), {name: "houseShare", id: `house-${g.game}`, type: "number", step: "0.01", value: g.houseShare}),
  h("button", {type: "submit", id: `save-${g.game}`}, gt("save")), h("p", {class: "form-error", role: "alert"}));
  return form;
}

function lotteryForm() {
  const form = h("form", {class: "inline-form", id: "lottery-form", onsubmit: async (e) => {
    e.preventDefault();
    const v = formValues(form);
    const at = new Date(Date.now() + Number(v.minutes) * 60000).toISOString();
    try {
      const r = await api("POST", "/games/rounds", {body: {game: "lottery", stake: Number(v.price), drawsAt: at}});
      go(`/game/${r.id}`);
    } catch (err) { showErrors(form, err); }
  }}, field(gt("price"), {name: "price", id: "lottery-price", type: "number", min: 1, value: 10}),
  field(gt("drawIn"), {name: "minutes", id: "lottery-minutes", type: "number", min: 1, value: 10}),
  h("button", {type: "submit", id: "lottery-create"}, gt("create")), h("p", {class: "form-error", role: "alert"}));
  return form;
}

function tournamentForm() {
  const form = h("form", {class: "inline-form", id: "tournament-form", onsubmit: async (e) => {
    e.preventDefault();
    const v = formValues(form);
    const startsAt = new Date(Date.now() + Number(v.minutes) * 60000).toISOString();
    try {
      const t = await api("POST", "/admin/games/tournaments", {body: {name: v.name, format: v.format,
        entryFee: Number(v.entryFee), startsAt}});
      go(`/tournament/${t.id}`);
    } catch (err) { showErrors(form, err); }
  }}, field(gt("name"), {name: "name", id: "tn-name", required: true, maxlength: 80}),
  field(gt("format"), {name: "format", id: "tn-format", options: [["single", gt("single")], ["double", gt("double")]]}),
  field(gt("entryFee"), {name: "entryFee", id: "tn-fee", type: "number", min: 1, value: 50}),
  field(gt("startsIn"), {name: "minutes", id: "tn-minutes", type: "number", min: 1, value: 15}),
  h("button", {type: "submit", id: "tn-create"}, gt("create")), h("p", {class: "form-error", role: "alert"}));
  return form;
}
