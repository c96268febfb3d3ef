// Admin: users, reports and review queue, payments and webhooks, payouts, gifts, OG tiers, audit, metrics.
// Tabs follow the WAI-ARIA tabs pattern (arrow keys move between tabs).
import {field, fmt, formValues, h, mount, toast, when} from "../dom.js";
import {t} from "../i18n.js";
import {api, optional} from "../api.js";
import {go} from "../app.js";

const TABS = ["users", "reports", "payments", "payouts", "gifts", "og", "audit", "metrics"];

export async function render(main, r) {
  const tab = TABS.includes(r.args[0]) ? r.args[0] : "users";
  const panel = h("div", {class: "card", role: "tabpanel", id: "admin-panel", "aria-labelledby": `tab-${tab}`, tabindex: 0});
  const tabs = h("div", {class: "tabs", role: "tablist", "aria-label": t("admin.sections")}, TABS.map((name) =>
    h("button", {type: "button", role: "tab", id: `tab-${name}`, "aria-selected": name === tab ? "true" : "false",
      "aria-controls": "admin-panel", tabindex: name === tab ? 0 : -1, onclick: () => go(`/admin/${name}`)},
    t(`admin.tab.${name}`))));
  tabs.addEventListener("keydown", (e) => {
    const i = TABS.indexOf(tab);
    const j = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : e.key === "Home" ? 0 : e.key === "End" ? TABS.length - 1 : null;
    if (j === null) return;
    e.preventDefault();
    go(`/admin/${TABS[(j + TABS.length) % TABS.length]}`);
  });
  mount(main, h("section", {class: "page"}, h("h1", null, t("admin.title")), tabs, panel));
  if (document.activeElement === document.body || document.activeElement === main) {
    const sel = document.getElementById(`tab-${tab}`);
    if (r.args[0]) sel.focus();
  }
  await PANELS[tab](panel, r);
}

// ---- helpers -----------------------------------------------------------------------------------
function table(cols, rows, cell) {
  return h("div", {class: "table-wrap"}, h("table", null,
    h("thead", null, h("tr", null, cols.map(([, label, num]) => h("th", {scope: "col", class: num ? "num" : null}, label)))),
    h("tbody", null, rows.map((row) => h("tr", {dataset: {id: row.id ?? ""}}, cols.map(([key, , num]) =>
      h("td", {class: num ? "num" : null}, cell ? cell(key, row) : plain(row[key]))))))));
}

function plain(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return fmt(v);
  if (typeof v === "object") return h("code", null, JSON.stringify(v));
  if (/^\d{4}-\d\d-\d\dT/.test(v)) return when(v);
  return String(v);
}

function columnsOf(items, prefer) {
  const keys = items.length ? Object.keys(items[0]) : [];
  const use = prefer.filter((k) => keys.includes(k));
  return (use.length ? use : keys.slice(0, 8)).map((k) => [k, k, typeof items[0]?.[k] === "number"]);
}

function unavailable(panel, what) {
  mount(panel, h("p", {class: "notice", id: "admin-unavailable"}, t("admin.unavailable", {what})));
}

async function run(fn, ok) {
  try { await fn(); if (ok) toast(ok); return true; } catch (e) { toast(e.message, "error"); return false; }
}

// ---- panels --------------------------------------------------------------------------------------
const PANELS = {
  async users(panel, r) {
    const q = r.query.get("q") || "";
    const role = r.query.get("role") || "";
    const form = h("form", {class: "inline-form", role: "search", id: "user-search"},
      field(t("admin.search"), {name: "q", value: q, id: "user-q", type: "search"}),
      field(t("admin.role"), {name: "role", value: role, id: "user-role",
        options: [["", t("admin.anyRole")], ["user", "user"], ["host", "host"], ["moderator", "moderator"], ["admin", "admin"]]}),
      h("button", {type: "submit"}, t("admin.find")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const v = formValues(form);
      go(`/admin/users?${new URLSearchParams(Object.entries(v).filter(([, x]) => x))}`);
    });
    const box = h("div", {id: "user-results"});
    mount(panel, form, box);
    const data = await api("GET", "/admin/users", {query: {q, role, limit: 100}});
    if (!data.items.length) return mount(box, h("p", {class: "empty"}, t("admin.noUsers")));
    const cols = [["username", t("auth.username")], ["email", t("auth.email")], ["country", t("auth.country")],
      ["role", t("admin.role")], ["status", t("admin.status")], ["ogLevel", "OG", true], ["actions", t("host.actions")]];
    mount(box, table(cols, data.items, (key, u) => {
      if (key === "role") {
        const sel = h("select", {"aria-label": t("admin.roleOf", {name: u.username}), class: "role-select"},
          ["user", "host", "moderator", "admin"].map((x) => h("option", {value: x, selected: x === u.role}, x)));
        sel.addEventListener("change", () => run(() => api("POST", `/admin/users/${u.id}/role`, {body: {role: sel.value}}),
          t("admin.roleSet", {name: u.username, role: sel.value})));
        return sel;
      }
      if (key === "actions") {
        const ban = (body, label) => h("button", {type: "button", class: "mini", "aria-label": `${label} ${u.username}`,
          onclick: async () => {
            const reason = body.lift ? "" : prompt(t("admin.reason"), "") ?? null;
            if (reason === null) return;
            if (await run(() => api("POST", `/admin/users/${u.id}/ban`, {body: {...body, reason}}), t("admin.saved"))) {
              PANELS.users(panel, r);
            }
          }}, label);
        return h("span", {class: "row-actions"}, u.status === "active"
          ? [ban({}, t("admin.ban")), ban({days: 7}, t("admin.suspend"))]
          : ban({lift: true}, t("admin.lift")));
      }
      return plain(u[key]);
    }));
  },

  reports: reviewQueue,

  async payments(panel) {
    const orders = await optional("GET", "/admin/payments/orders", {query: {limit: 100}});
    const hooks = await optional("GET", "/admin/payments/events", {query: {limit: 100}});
    if (!orders && !hooks) return unavailable(panel, t("admin.tab.payments"));
    const parts = [];
    if (orders) {
      const items = orders.items || [];
      parts.push(h("h2", null, t("admin.orders")), items.length ? table(columnsOf(items,
        ["id", "userId", "gateway", "packId", "amount", "currency", "coins", "status", "needsReview", "createdAt"]), items)
        : h("p", {class: "empty"}, t("admin.none")));
    }
    if (hooks) {
      const items = hooks.items || [];
      parts.push(h("h2", null, t("admin.webhooks")), items.length ? table(columnsOf(items,
        ["id", "gateway", "source", "eventType", "orderId", "verdict", "reason", "receivedAt"]), items)
        : h("p", {class: "empty"}, t("admin.none")));
    }
    mount(panel, parts);
  },

  async payouts(panel) {
    const data = await api("GET", "/admin/payouts", {query: {status: "pending"}});
    if (!data.items.length) return mount(panel, h("p", {class: "empty"}, t("admin.noPayouts")));
    mount(panel, table([["username", t("auth.username")], ["amount", t("admin.amount"), true], ["requestedAt", t("host.when")],
      ["actions", t("host.actions")]], data.items, (key, p) => key !== "actions" ? plain(p[key]) :
      h("span", {class: "row-actions"}, [[true, t("admin.approve")], [false, t("admin.reject")]].map(([approve, label]) =>
        h("button", {type: "button", class: "mini", onclick: async () => {
          if (await run(() => api("POST", `/admin/payouts/${p.id}`, {body: {approve}}), t("admin.saved"))) PANELS.payouts(panel);
        }}, label)))));
  },

  async gifts(panel) {
    const data = await api("GET", "/admin/gifts");
    mount(panel, table([["art", ""], ["name", t("admin.name")], ["price", t("admin.price"), true], ["animation", t("admin.animation")],
      ["ogMinLevel", "OG", true], ["active", t("admin.active")]], data.items, (key, g) => {
      if (key === "art") return h("img", {src: g.art, alt: "", width: 32, height: 32});
      if (key === "price") {
        const input = h("input", {type: "number", min: 1, value: g.price, class: "price-input",
          "aria-label": t("admin.priceOf", {name: g.name})});
        input.addEventListener("change", () => run(() => api("PATCH", `/admin/gifts/${g.id}`,
          {body: {price: Number(input.value)}}), t("admin.saved")));
        return input;
      }
      if (key === "active") {
        const box = h("input", {type: "checkbox", checked: g.active, "aria-label": t("admin.activeOf", {name: g.name})});
        box.addEventListener("change", () => run(() => api("PATCH", `/admin/gifts/${g.id}`,
          {body: {active: box.checked}}), t("admin.saved")));
        return box;
      }
      return plain(g[key]);
    }));
  },

  async og(panel) {
    const data = await api("GET", "/og/tiers");
    mount(panel, h("p", {class: "muted"}, t("admin.ogHelp")),
      table([["tier", "OG", true], ["priceCoins", t("admin.price"), true], ["duration", t("admin.days"), true],
        ["bonus", t("admin.dailyBonus"), true], ["gifts", t("admin.exclusive")]], data.items, (key, x) =>
        key === "bonus" ? fmt(x.benefits.dailyBonus) : key === "gifts" ? x.benefits.exclusiveGifts.join(", ") : plain(x[key])));
  },

  async audit(panel, r) {
    const action = r.query.get("action") || "";
    const form = h("form", {class: "inline-form", role: "search"},
      field(t("admin.actionFilter"), {name: "action", value: action, id: "audit-action"}),
      h("button", {type: "submit"}, t("admin.find")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const v = formValues(form).action.trim();
      go(v ? `/admin/audit?action=${encodeURIComponent(v)}` : "/admin/audit");
    });
    const data = await api("GET", "/admin/audit", {query: {action, limit: 100}});
    mount(panel, form, data.items.length ? h("div", {id: "audit-log"}, table(columnsOf(data.items,
      ["at", "actor", "action", "targetType", "targetId", "before", "after", "requestId"]), data.items))
      : h("p", {class: "empty"}, t("admin.none")));
  },

  async metrics(panel) {
    const [ready, text, live] = await Promise.all([
      fetch("/readyz").then((x) => x.json()).catch(() => null),
      fetch("/metrics").then((x) => (x.ok ? x.text() : "")).catch(() => ""),
      optional("GET", "/streams", {query: {limit: 100}}).catch(() => null)]);
    const sums = parseMetrics(text);
    const pick = (name) => sums.get(name) ?? (text ? 0 : undefined);
    const stat = (label, n, id) => h("div", {class: "stat", id}, h("span", {class: "n"}, n === undefined ? "—" : fmt(Math.round(n))),
      h("span", {class: "l"}, label));
    const known = [...sums.keys()].filter((k) => k.startsWith("halobuzz_")).sort();
    mount(panel,
      h("div", {class: "stats", id: "metrics-overview"},
        stat(t("admin.liveStreams"), live ? live.items.length : undefined, "m-live"),
        stat(t("admin.viewers"), live ? live.items.reduce((a, s) => a + (s.viewers || 0), 0) : undefined, "m-viewers"),
        stat(t("admin.requests"), pick("halobuzz_http_requests_total"), "m-requests"),
        stat(t("admin.events"), pick("halobuzz_events_published_total"), "m-events"),
        stat(t("admin.rateLimited"), pick("halobuzz_rate_limited_total"), "m-limited")),
      h("h2", null, t("admin.readiness")),
      ready ? h("ul", {id: "readiness"}, Object.entries(ready.checks || {}).map(([k, v]) =>
        h("li", {class: v === "ok" ? "" : "error"}, `${k}: ${v}`))) : h("p", {class: "error"}, "readyz?"),
      h("details", null, h("summary", null, t("admin.allMetrics")),
        table([["name", t("admin.name")], ["value", t("admin.value"), true]],
          known.map((name) => ({name, value: sums.get(name)})))));
  },
};

// The moderation review queue (moderators and admins): oldest first; confirm with an action or dismiss.
export async function reviewQueue(panel) {
  const data = await optional("GET", "/moderation/queue", {query: {status: "pending", limit: 100}});
  if (!data) return unavailable(panel, t("admin.tab.reports"));
  const items = data.items || [];
  if (!items.length) return mount(panel, h("h2", null, t("admin.review")), h("p", {class: "empty", id: "no-review"}, t("admin.noReview")));
  const decide = (f, body) => async () => {
    if (await run(() => api("POST", `/moderation/flags/${encodeURIComponent(f.id)}/review`, {body}), t("admin.resolved"))) {
      reviewQueue(panel);
    }
  };
  mount(panel, h("h2", null, t("admin.review")), h("ul", {class: "convos", id: "review-queue"}, items.map((f) =>
    h("li", {class: "card review-item", dataset: {id: f.id}},
      h("p", null, h("b", null, t(`admin.type.${f.type}`)), " · ", f.automated ? t("admin.automated") : t("admin.userReport"),
        f.score !== null && f.score !== undefined ? ` · ${t("admin.score")} ${Number(f.score).toFixed(2)}` : "",
        " · ", plain(f.createdAt)),
      h("p", null, h("span", {class: "muted"}, `${t("admin.reasonLabel")}: `), f.reason || ""),
      f.details ? h("blockquote", null, f.details) : null,
      subjectView(f.subject),
      decisionView(f.decision),
      h("p", {class: "mono"}, `${f.type}: ${f.targetId}`),
      preview(f.type === "content" ? {previewUrl: `/api/v1/images/${encodeURIComponent(f.targetId)}`} : f),
      h("div", {class: "row-actions", role: "group", "aria-label": t("admin.decide")},
        h("button", {type: "button", class: "mini resolve-dismiss", onclick: decide(f, {decision: "dismiss"})}, t("admin.action.dismiss")),
        h("button", {type: "button", class: "mini resolve-warn", onclick: decide(f, {decision: "confirm", action: "warn"})}, t("admin.action.warn")),
        f.type === "content" && h("button", {type: "button", class: "mini resolve-blur", onclick: decide(f, {decision: "confirm", action: "blur"})}, t("admin.action.blur")),
        (f.type === "message" || f.type === "content") && h("button", {type: "button", class: "mini resolve-delete",
          onclick: decide(f, {decision: "confirm", action: "delete"})}, t("admin.action.remove")),
        h("button", {type: "button", class: "mini danger resolve-ban", onclick: decide(f, {decision: "confirm", action: "ban"})}, t("admin.action.ban")))))));
}

// What was said, by whom and where (a room, or a DM conversation): the reviewer decides on the text.
function subjectView(subj) {
  if (!subj) return null;
  const where = subj.kind === "dm"
    ? `${t("admin.subject.dmTo")} @${(subj.where.recipient || {}).username || "?"}`
    : `${t("admin.subject.room")} ${subj.where.streamTitle || subj.where.streamId || "?"}`;
  return h("div", {class: "review-subject"},
    h("blockquote", {class: "subject-text", lang: ""}, subj.text || ""),
    h("p", {class: "muted"}, `@${(subj.author || {}).username || "?"} · ${where} · ${subj.status} · `, plain(subj.at)));
}

// The automated decision: model, score, the threshold crossed, the thresholds in force, reasons.
function decisionView(d) {
  if (!d) return null;
  const th = d.thresholds || {};
  return h("p", {class: "mono review-decision"},
    `${d.modelId} · ${t("admin.score")} ${Number(d.score).toFixed(3)} · ${d.action}` +
    `${d.threshold !== null && d.threshold !== undefined ? ` ≥ ${d.threshold}` : ""} · warn ${th.warn} / block ${th.block}` +
    `${(d.reasons || []).length ? ` · ${d.reasons.join(", ")}` : ""}`);
}

function preview(item) {
  const src = item.previewUrl || item.mediaUrl || item.imageUrl || (item.target && item.target.previewUrl);
  if (!src || !/^\/(assets|api)\//.test(src)) return null;
  // Blurred until hovered or focused (the seed's review rule); alt text says so for screen readers.
  return h("img", {src, alt: t("admin.previewAlt"), class: "blur preview", tabindex: 0, width: 160});
}

// Prometheus text → sum of samples per metric name (labels folded; histogram buckets skipped).
export function parseMetrics(text) {
  const sums = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([-+\deE.]+|NaN|[+-]Inf)/);
    if (!m || m[1].endsWith("_bucket") || m[1].endsWith("_created")) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) sums.set(m[1], (sums.get(m[1]) || 0) + v);
  }
  return sums;
}
