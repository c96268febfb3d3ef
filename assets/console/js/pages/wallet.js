// Wallet: balances, earnings, ledger lines, coin packs (redirect to the gateway or its simulator),
// and the self-set daily spend cap.
import {field, fmt, formValues, h, mount, showErrors, toast, when} from "../dom.js";
import {t} from "../i18n.js";
import {api, idemKey, optional} from "../api.js";

export async function render(main, r) {
  const stats = h("div", {class: "stats", id: "wallet-stats", "aria-live": "polite"});
  const packs = h("div", {id: "packs"});
  const tx = h("div", {class: "table-wrap", id: "transactions"});
  const orders = h("div", {class: "table-wrap", id: "orders"});
  const back = r.query.get("payment") || r.query.get("status");
  mount(main, h("section", {class: "page"},
    h("h1", null, t("wallet.title")),
    back && h("p", {class: "notice", role: "status", id: "payment-result"}, t("wallet.paymentReturn", {status: back})),
    stats,
    h("section", {class: "card", "aria-labelledby": "buy-h"}, h("h2", {id: "buy-h"}, t("wallet.buy")), packs, orders),
    h("section", {class: "card", "aria-labelledby": "tx-h"}, h("h2", {id: "tx-h"}, t("wallet.history")), tx),
    limitForm()));

  async function loadWallet() {
    const w = await api("GET", "/wallet");
    mount(stats,
      stat(t("wallet.balance"), w.balance, "bal-paid"), stat(t("wallet.bonus"), w.bonusBalance, "bal-bonus"),
      stat(t("wallet.spent"), w.totalSpent), stat(t("wallet.earned"), w.totalEarned),
      stat(t("wallet.earningsHeld"), w.earningsHeld), stat(t("wallet.earningsAvailable"), w.earningsAvailable),
      w.dailySpendLimit ? stat(t("wallet.spentToday"), `${fmt(w.spentToday)} / ${fmt(w.dailySpendLimit)}`) : null);
    return w;
  }
  async function loadTx() {
    const data = await api("GET", "/wallet/transactions", {query: {limit: 50}});
    if (!data.items.length) return mount(tx, h("p", {class: "empty"}, t("wallet.noTx")));
    const cols = [["at", t("host.when")], ["kind", t("wallet.kind")], ["memo", t("wallet.memo")],
      ["bucket", t("wallet.bucket")], ["amount", t("admin.amount"), true]];
    const cell = (row, k) => {
      const v = row[k] ?? (k === "at" ? row.createdAt : k === "memo" ? row.reason || row.counterparty : "");
      if (k === "at") return when(v);
      if (typeof v === "number") return (v > 0 ? "+" : "") + fmt(v);
      return v === null || v === undefined ? "" : typeof v === "object"
        ? Object.entries(v).map(([a, b]) => `${a}: ${typeof b === "object" ? JSON.stringify(b) : b}`).join(", ") : String(v);
    };
    mount(tx, h("table", {id: "tx-table"},
      h("thead", null, h("tr", null, cols.map(([, label, num]) => h("th", {scope: "col", class: num ? "num" : null}, label)))),
      h("tbody", null, data.items.map((row) => h("tr", null, cols.map(([k, , num]) =>
        h("td", {class: num ? "num" : null}, cell(row, k))))))));
  }
  async function loadPacks() {
    const data = await optional("GET", "/payments/packs");
    if (!data) return mount(packs, h("p", {class: "notice", id: "payments-unavailable"}, t("wallet.noPayments")));
    const items = data.items || data.packs || [];
    mount(packs, h("ul", {class: "packs"}, items.filter((p) => !p.ogTier).map((p) =>
      h("li", {class: "card pack"}, h("span", {class: "price"}, t("wallet.coins", {n: fmt(p.coins)})),
        h("span", null, p.amountDisplay || `${p.currency} ${p.amount}`),
        h("div", {class: "row-actions"}, (p.gateways || []).map((g) =>
          h("button", {type: "button", class: "primary", id: `buy-${p.id}-${g}`,
            "aria-label": t("wallet.payWith", {coins: fmt(p.coins), gateway: gatewayName(g)}),
            onclick: (e) => buy(p, g, e.target)}, gatewayName(g))))))));
  }
  async function loadOrders() {
    const data = await optional("GET", "/payments/orders", {query: {limit: 10}});
    if (!data || !data.items.length) return;
    mount(orders, h("h3", null, t("wallet.orders")), h("table", null,
      h("thead", null, h("tr", null, [t("host.when"), "Gateway", t("wallet.coins", {n: ""}).trim(), t("admin.status")]
        .map((x) => h("th", {scope: "col"}, x)))),
      h("tbody", null, data.items.map((o) => h("tr", {dataset: {id: o.id}},
        h("td", null, when(o.createdAt)), h("td", null, gatewayName(o.gateway)), h("td", {class: "num"}, fmt(o.coins)),
        h("td", {class: `order-${o.status}`}, o.status))))));
  }
  async function buy(pack, gateway, button) {
    button.disabled = true;
    try {
      const res = await api("POST", "/payments/orders", {body: {gateway, packId: pack.id}, idem: idemKey()});
      const redirect = res.redirect || (res.checkout && res.checkout.redirect) || res.next;
      if (!redirect || !redirect.url) throw new Error(t("wallet.noRedirect"));
      follow(redirect);
    } catch (e) {
      toast(e.message, "error");
      button.disabled = false;
    }
  }
  await Promise.all([loadWallet(), loadTx().catch((e) => mount(tx, h("p", {class: "error"}, e.message))), loadPacks(), loadOrders().catch(() => {})]);
}

// Go to the gateway (or its built-in simulator): GET with the fields as query, or an auto-submitted POST form.
export function follow(redirect) {
  const method = (redirect.method || "GET").toUpperCase();
  const fields = redirect.fields || {};
  if (method === "GET") {
    const url = new URL(redirect.url, location.href);
    for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v);
    location.assign(url.toString());
    return;
  }
  const form = h("form", {method: "POST", action: redirect.url, hidden: true},
    Object.entries(fields).map(([k, v]) => h("input", {type: "hidden", name: k, value: String(v)})));
  document.body.append(form);
  form.submit();
}

function gatewayName(g) {
  return {esewa: "eSewa", khalti: "Khalti", stripe: "Stripe"}[g] || g;
}

function stat(label, n, id) {
  return h("div", {class: "stat", id}, h("span", {class: "n"}, fmt(n ?? 0)), h("span", {class: "l"}, label));
}

function limitForm() {
  const form = h("form", {class: "card inline-form", id: "limit-form"},
    h("h2", null, t("wallet.limit")),
    h("p", {class: "form-error", role: "alert"}),
    field(t("wallet.limitLabel"), {type: "number", name: "limit", min: 0, id: "limit-input", inputmode: "numeric"}),
    h("button", {type: "submit"}, t("wallet.save")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = formValues(form).limit;
    try {
      await api("PUT", "/wallet/limits", {body: {dailySpendLimit: v === "" || v === "0" ? null : Number(v)}});
      toast(t("wallet.saved"));
    } catch (err) { showErrors(form, err); }
  });
  return form;
}
