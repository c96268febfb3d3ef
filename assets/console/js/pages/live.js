// The live list: trending first, filter by country.
import {fmt, h, mount} from "../dom.js";
import {t} from "../i18n.js";
import {api, optional} from "../api.js";

export async function render(main, r) {
  const country = (r.query.get("country") || "").toUpperCase();
  const list = h("ul", {class: "stream-grid", id: "live-list", "aria-live": "polite", "aria-busy": "true"});
  const input = h("input", {id: "country-filter", name: "country", value: country, maxlength: 2,
    placeholder: "NP", autocomplete: "off", "aria-describedby": "country-help"});
  const form = h("form", {class: "filters", role: "search", onsubmit: (e) => {
    e.preventDefault();
    const c = input.value.trim().toUpperCase();
    location.hash = c ? `/live?country=${encodeURIComponent(c)}` : "/live";
  }},
  h("label", {for: "country-filter"}, t("live.country")), input,
  h("span", {id: "country-help", class: "sr-only"}, t("live.countryHelp")),
  h("button", {type: "submit"}, t("live.filter")),
  country && h("a", {href: "#/live", class: "button-link"}, t("live.clear")));
  mount(main, h("section", {class: "page"},
    h("div", {class: "page-head"}, h("h1", null, t("live.title")), h("span", {class: "chip"}, t("live.trending"))),
    form, list));
  let cancelled = false;
  async function load() {
    let data;
    try {
      data = await optional("GET", "/streams", {query: {country, sort: "trending", limit: 50}}, null);
    } catch (e) {
      if (!cancelled) mount(list, h("li", {class: "notice error"}, e.message));
      return;
    }
    if (cancelled) return;
    list.setAttribute("aria-busy", "false");
    if (data === null) return mount(list, h("li", {class: "notice"}, t("live.unavailable")));
    if (!data.items.length) return mount(list, h("li", {class: "notice empty"}, t("live.empty")));
    mount(list, data.items.map(card));
  }
  await load();
  // Anonymous visitors share their IP's overall budget (100 requests / 15 min): refresh once a
  // minute, and only while the page is visible (a background tab costs nothing).
  const timer = setInterval(() => { if (!document.hidden) load(); }, 60000);
  const onShow = () => { if (!document.hidden) load(); };
  document.addEventListener("visibilitychange", onShow);
  return () => { cancelled = true; clearInterval(timer); document.removeEventListener("visibilitychange", onShow); };
}

function card(s) {
  const host = s.host ? s.host.username : "";
  return h("li", {class: "stream-card"},
    h("a", {href: `#/room/${encodeURIComponent(s.id)}`, class: "stream-link", dataset: {streamId: s.id}},
      h("div", {class: "thumb", "aria-hidden": "true"}, h("span", {class: "live-dot"}, "LIVE"),
        h("span", {class: "thumb-initial"}, (host[0] || "?").toUpperCase())),
      h("span", {class: "stream-title"}, s.title),
      h("span", {class: "stream-meta"},
        h("span", null, `@${host}`), " · ", h("span", null, s.country), " · ",
        h("span", {class: "viewers"}, t("room.viewers", {n: fmt(s.viewers || 0)})))));
}
