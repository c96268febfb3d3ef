// Entry point: session restore, header (nav, language, account), hash router.
import {h, mount, toast} from "./dom.js";
import {LANGS, lang, setLang, t} from "./i18n.js";
import {hasRole, logout, onSession, restore, session} from "./api.js";
import {closeSocket} from "./ws.js";
import {renderBanner, startFestivals, watchSocket} from "./festival.js";

// route name -> [module loader, who may see it: null = anyone, "user" = signed in, or roles]
const ROUTES = {
  login: [() => import("./pages/auth.js"), null],
  register: [() => import("./pages/auth.js"), null],
  live: [() => import("./pages/live.js"), null],
  room: [() => import("./pages/room.js"), "user"],
  replay: [() => import("./pages/replay.js"), "user"],
  wallet: [() => import("./pages/wallet.js"), "user"],
  og: [() => import("./pages/og.js"), null],
  inbox: [() => import("./pages/inbox.js"), "user"],
  host: [() => import("./pages/host.js"), "user"],
  moderation: [() => import("./pages/moderation.js"), ["moderator"]],
  admin: [() => import("./pages/admin.js"), ["admin"]],
  festival: [() => import("./pages/festival.js"), null],
  games: [() => import("./pages/games.js"), null],
  game: [() => import("./pages/game.js"), null],
  tournament: [() => import("./pages/tournament.js"), null],
  gamesadmin: [() => import("./pages/gamesadmin.js"), ["admin"]],
};
const NAV = [["live", "nav.live", null], ["inbox", "nav.inbox", "user"], ["wallet", "nav.wallet", "user"],
  ["og", "nav.og", null], ["festival", "nav.festivals", null], ["games", "nav.games", null],
  ["host", "nav.host", ["host"]], ["moderation", "nav.moderation", ["moderator"]], ["admin", "nav.admin", ["admin"]],
  ["gamesadmin", "nav.gamesadmin", ["admin"]]];

let cleanup = null;
let renderSeq = 0;
let firstRoute = true;   // on first load focus stays at the top (the skip link is the first Tab stop)

export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return {name: parts[0] || "live", args: parts.slice(1), query: new URLSearchParams(query)};
}

export function go(path) {
  if (location.hash === `#${path}`) route();
  else location.hash = path;
}

function allowed(rule) {
  if (rule === null) return true;
  if (!session.user) return false;
  if (rule === "user") return true;
  return hasRole(...rule);
}

async function route() {
  const my = ++renderSeq;
  const r = parseHash();
  const main = document.getElementById("main");
  const entry = ROUTES[r.name];
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  renderNav(r.name);
  if (!entry) {
    mount(main, h("section", {class: "page"}, h("h1", null, t("notFound.title")),
      h("p", null, h("a", {href: "#/live"}, t("nav.live")))));
    return;
  }
  if (!allowed(entry[1])) {
    if (!session.user) return go(`/login?next=${encodeURIComponent(location.hash.slice(1))}`);
    mount(main, h("section", {class: "page"}, h("h1", null, t("forbidden.title")), h("p", null, t("forbidden.body"))));
    return;
  }
  let mod;
  try {
    mod = await entry[0]();
  } catch (e) {
    mount(main, h("p", {class: "notice error"}, String(e)));
    return;
  }
  if (my !== renderSeq) return;
  main.replaceChildren();
  main.dataset.page = r.name;
  try {
    cleanup = (await mod.render(main, r)) || null;
  } catch (e) {
    console.error(e);
    mount(main, h("section", {class: "page"}, h("p", {class: "notice error", role: "alert"}, e.message || String(e))));
  }
  // After a route change, move focus to the new content so screen readers announce it.
  if (my === renderSeq && !firstRoute && document.activeElement === document.body) main.focus({preventScroll: true});
  firstRoute = false;
}

function renderNav(active) {
  const nav = document.getElementById("nav");
  mount(nav, h("ul", null, NAV.filter(([, , rule]) => allowed(rule)).map(([name, key]) =>
    h("li", null, h("a", {href: `#/${name}`, "aria-current": active === name ? "page" : null,
      id: `nav-${name}`}, t(key))))));
  const tools = document.getElementById("tools");
  const langSel = h("select", {id: "lang", "aria-label": t("lang.label"), onchange: (e) => {
    setLang(e.target.value);
    renderBanner();
    route();
  }}, LANGS.map(([code, name]) => h("option", {value: code, selected: code === lang()}, name)));
  const account = session.user
    ? [h("span", {class: "who", id: "who"}, h("span", {class: "sr-only"}, t("account.signedInAs")), session.user.username),
       h("button", {type: "button", class: "link", id: "logout", onclick: async () => {
         closeSocket();
         await logout();
         go("/login");
       }}, t("account.logout"))]
    : [h("a", {href: "#/login", id: "nav-login"}, t("account.login"))];
  mount(tools, langSel, account);
  document.getElementById("skip-link").textContent = t("skip");
}

async function boot() {
  document.documentElement.lang = lang();
  window.addEventListener("hashchange", route);
  onSession(() => { renderNav(parseHash().name); watchSocket(); });
  // Gateways send the browser back to "/?payment=success|cancelled": show it on the wallet page.
  const back = new URLSearchParams(location.search).get("payment");
  if (back) {
    history.replaceState(null, "", `/#/wallet?payment=${encodeURIComponent(back)}`);
  }
  try { await restore(); } catch (e) { toast(String(e.message || e), "error"); }
  document.getElementById("boot")?.remove();
  startFestivals();
  route();
}

boot();
