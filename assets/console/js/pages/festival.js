// Festivals: the active and upcoming ones, a festival's leaderboards (#/festival/<id>),
// and for admins the festival editor (add from a template or custom, change, cancel).
import {field, fmt, formValues, h, mount, showErrors, toast, when} from "../dom.js";
import {lang, t} from "../i18n.js";
import {api, hasRole} from "../api.js";
import {loadFestivals} from "../festival.js";

const TEMPLATES = ["dashain", "tihar", "holi", "christmas", "new-year", "nepali-new-year", "custom"];

function name(f) { return f.name[lang() === "ne" ? "ne" : "en"]; }

function card(f) {
  return h("li", {class: "card festival-card", dataset: {festival: f.id}},
    h("h3", null, h("a", {href: `#/festival/${encodeURIComponent(f.id)}`}, name(f)), " ",
      h("span", {class: "chip"}, f.status)),
    h("p", null, f.banner[lang() === "ne" ? "ne" : "en"]),
    h("p", {class: "muted"}, t("festival.window", {start: when(f.startsAt), end: when(f.endsAt), tz: f.tz})),
    f.giftBonusBps ? h("p", null, t("festival.bonus", {n: f.giftBonusBps / 100})) : null);
}

async function board(fid, role) {
  const data = await api("GET", `/festivals/${encodeURIComponent(fid)}/leaderboard`, {query: {role}, auth: false});
  if (!data.items.length) return h("p", {class: "empty"}, t("festival.nobody"));
  return h("ol", {class: "plain-list", id: `festival-${role}s`}, data.items.map((r) =>
    h("li", null, `${r.rank}. ${r.username} — ${fmt(r.coins)}`)));
}

async function renderOne(main, fid) {
  const all = (await api("GET", "/festivals", {query: {past: true}, auth: false})).items;
  const f = all.find((x) => x.id === fid);
  if (!f) return mount(main, h("section", {class: "page"}, h("h1", null, t("notFound.title"))));
  const [gifters, hosts] = await Promise.all([board(fid, "gifter"), board(fid, "host")]);
  mount(main, h("section", {class: "page"}, h("h1", {id: "festival-title"}, name(f)),
    h("ul", {class: "plain-list"}, card(f)),
    h("div", {class: "grid-2"},
      h("section", {class: "card", "aria-labelledby": "fg-h"}, h("h2", {id: "fg-h"}, t("festival.gifters")), gifters),
      h("section", {class: "card", "aria-labelledby": "fh-h"}, h("h2", {id: "fh-h"}, t("festival.hosts")), hosts))));
}

function editor(items, refresh) {
  const tpl = h("select", {id: "festival-template", name: "template"},
    TEMPLATES.map((x) => h("option", {value: x}, x === "custom" ? t("festival.custom") : x)));
  const custom = h("div", {id: "festival-custom", hidden: true},
    field(t("festival.id"), {name: "id", id: "festival-id", maxlength: 48}),
    field(t("festival.nameEn"), {name: "nameEn", id: "festival-name-en", maxlength: 60}),
    field(t("festival.nameNe"), {name: "nameNe", id: "festival-name-ne", maxlength: 60}),
    field(t("festival.bannerEn"), {name: "bannerEn", id: "festival-banner-en", maxlength: 200}),
    field(t("festival.bannerNe"), {name: "bannerNe", id: "festival-banner-ne", maxlength: 200}),
    field(t("festival.start"), {type: "datetime-local", name: "startsLocal", id: "festival-start"}),
    field(t("festival.end"), {type: "datetime-local", name: "endsLocal", id: "festival-end"}),
    field(t("festival.tz"), {name: "tz", id: "festival-tz", value: "Asia/Kathmandu"}));
  const year = field(t("festival.year"), {type: "number", name: "year", id: "festival-year", min: 1900, max: 2200});
  tpl.addEventListener("change", () => {
    custom.hidden = tpl.value !== "custom";
    year.hidden = tpl.value === "custom";
  });
  const form = h("form", {id: "festival-form"}, h("p", {class: "form-error", role: "alert"}),
    h("div", {class: "field"}, h("label", {for: "festival-template"}, t("festival.template")), tpl), year, custom,
    field(t("festival.giftBonus"), {type: "number", name: "giftBonusBps", id: "festival-gift-bonus", min: 0, max: 10000}),
    field(t("festival.purchaseBonus"), {type: "number", name: "purchaseBonusBps", id: "festival-purchase-bonus",
      min: 0, max: 10000}),
    h("button", {type: "submit", class: "primary", id: "festival-add"}, t("festival.add")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = formValues(form);
    const body = {template: v.template};
    for (const k of ["id", "nameEn", "nameNe", "bannerEn", "bannerNe", "startsLocal", "endsLocal", "tz"]) {
      if (v.template === "custom" && v[k]) body[k] = v[k];
    }
    if (v.template !== "custom" && v.year) body.year = Number(v.year);
    for (const k of ["giftBonusBps", "purchaseBonusBps"]) if (v[k] !== "" && v[k] !== undefined) body[k] = Number(v[k]);
    try {
      await api("POST", "/admin/festivals", {body});
      toast(t("festival.added"));
      refresh();
    } catch (err) { showErrors(form, err); }
  });
  const rows = items.map((f) => {
    const bonus = h("input", {type: "number", min: 0, max: 10000, value: f.giftBonusBps, class: "mini-input",
      "aria-label": `${t("festival.giftBonus")}: ${f.id}`});
    return h("tr", {dataset: {festival: f.id}},
      h("td", null, f.id), h("td", null, name(f)), h("td", null, f.status), h("td", null, when(f.startsAt)),
      h("td", null, bonus, " ", h("button", {type: "button", class: "mini", onclick: async () => {
        try {
          await api("PATCH", `/admin/festivals/${encodeURIComponent(f.id)}`, {body: {giftBonusBps: Number(bonus.value)}});
          toast(t("festival.saved"));
        } catch (err) { toast(err.message, "error"); }
      }}, t("festival.save"))),
      h("td", null, f.status === "cancelled" || f.status === "ended" ? "" : h("button", {type: "button",
        class: "mini danger", onclick: async () => {
          if (!confirm(t("festival.cancelConfirm"))) return;
          try {
            await api("DELETE", `/admin/festivals/${encodeURIComponent(f.id)}`);
            toast(t("festival.cancelled"));
            refresh();
          } catch (err) { toast(err.message, "error"); }
        }}, t("festival.cancel"))));
  });
  return h("section", {class: "card", id: "festival-editor", "aria-labelledby": "fe-h"},
    h("h2", {id: "fe-h"}, t("festival.editor")), form,
    h("h3", null, t("festival.all")),
    h("div", {class: "table-wrap"}, h("table", {id: "festival-table"},
      h("thead", null, h("tr", null, ["Id", t("festival.template"), t("festival.status"), t("festival.start"),
        t("festival.giftBonus"), ""].map((x) => h("th", {scope: "col"}, x)))),
      h("tbody", null, rows))));
}

export async function render(main, r) {
  if (r.args[0]) return renderOne(main, r.args[0]);
  const page = h("section", {class: "page"});
  mount(main, page);
  async function refresh() {
    const items = (await api("GET", "/festivals", {auth: false})).items;
    const now = items.filter((f) => f.status === "active");
    const later = items.filter((f) => f.status === "scheduled");
    const admin = hasRole("admin") ? editor((await api("GET", "/admin/festivals")).items, refresh) : null;
    mount(page, h("h1", null, t("festival.title")),
      h("h2", null, t("festival.active")),
      now.length ? h("ul", {class: "plain-list", id: "festivals-active"}, now.map(card)) : h("p", {class: "empty"}, t("festival.none")),
      later.length ? [h("h2", null, t("festival.upcoming")), h("ul", {class: "plain-list"}, later.map(card))] : null,
      admin);
    loadFestivals();
  }
  await refresh();
}
