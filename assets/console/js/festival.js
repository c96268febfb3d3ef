// The festival banner under the header: the first active festival, in the chosen language,
// refreshed from /festivals/active, and live from `festival:active` on /ws when signed in.
import {h, mount} from "./dom.js";
import {lang, t} from "./i18n.js";
import {api, session} from "./api.js";
import {socket} from "./ws.js";

let active = [];
let timer = null;
let watched = null;

export function festivals() { return active; }

export async function loadFestivals() {
  try {
    active = (await api("GET", "/festivals/active", {auth: false})).items || [];
  } catch { active = []; }
  renderBanner();
}

export function startFestivals() {
  loadFestivals();
  clearInterval(timer);
  timer = setInterval(loadFestivals, 60000);
  watchSocket();
}

export function watchSocket() {
  if (!session.user) return;
  const ws = socket();
  if (ws === watched) return;
  watched = ws;
  ws.on("festival:active", (d) => {
    active = d.active || [];
    renderBanner();
  });
}

export function renderBanner() {
  const el = document.getElementById("festival-banner");
  if (!el) return;
  if (!active.length) {
    el.hidden = true;
    el.replaceChildren();
    delete el.dataset.festival;
    return;
  }
  const f = active[0];
  const l = lang() === "ne" ? "ne" : "en";
  const bonus = f.giftBonusBps ? h("span", {class: "chip festival-bonus"}, t("festival.bonus", {n: f.giftBonusBps / 100})) : null;
  mount(el, h("strong", {class: "festival-name", id: "festival-name"}, f.name[l]), " ",
    h("span", {class: "festival-text", id: "festival-text"}, f.banner[l]), " ", bonus, " ",
    h("a", {href: `#/festival/${encodeURIComponent(f.id)}`, id: "festival-board-link"}, t("festival.leaderboard")));
  el.setAttribute("aria-label", t("festival.region"));
  el.dataset.festival = f.id;
  el.hidden = false;
}
