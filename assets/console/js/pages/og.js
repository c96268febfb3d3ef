// OG tiers: price, duration, benefits; buy with coins (Idempotency-Key per click).
import {fmt, h, mount, toast} from "../dom.js";
import {t} from "../i18n.js";
import {api, idemKey, loadMe, session} from "../api.js";
import {go} from "../app.js";

export async function render(main) {
  const list = h("ul", {class: "tiers", id: "og-tiers"});
  const mine = session.user ? session.user.ogLevel || 0 : 0;
  mount(main, h("section", {class: "page"},
    h("div", {class: "page-head"}, h("h1", null, t("og.title")),
      session.user && h("span", {class: "chip", id: "og-current"}, mine ? t("og.yours", {n: mine}) : t("og.none"))),
    h("p", {class: "muted"}, t("og.intro")), list));
  const data = await api("GET", "/og/tiers");
  mount(list, data.items.map((tier) => h("li", {class: ["card tier", tier.tier === mine && "current"], id: `og-tier-${tier.tier}`},
    h("h2", null, `OG ${tier.tier}`),
    h("span", {class: "price"}, t("og.price", {n: fmt(tier.priceCoins)})),
    h("span", null, t("og.days", {n: tier.duration})),
    h("ul", null,
      h("li", null, t("og.dailyBonus", {n: fmt(tier.benefits.dailyBonus)})),
      tier.benefits.exclusiveGifts.length ? h("li", null, t("og.gifts", {list: tier.benefits.exclusiveGifts.join(", ")})) : null,
      tier.benefits.chatPrivileges.map((p) => h("li", null, p))),
    h("button", {type: "button", class: "primary", id: `og-buy-${tier.tier}`,
      onclick: (e) => subscribe(tier, e.target)}, tier.tier === mine ? t("og.renew") : t("og.buy")))));

  async function subscribe(tier, button) {
    if (!session.user) return go(`/login?next=${encodeURIComponent("/og")}`);
    if (!confirm(t("og.confirm", {n: tier.tier, price: fmt(tier.priceCoins)}))) return;
    button.disabled = true;
    try {
      await api("POST", "/og/subscribe", {body: {tier: tier.tier}, idem: idemKey()});
      await loadMe();
      toast(t("og.done", {n: tier.tier}));
      render(main);
    } catch (e) {
      toast(e.code === "insufficient_coins" ? t("room.needCoins") : e.message, "error");
      button.disabled = false;
    }
  }
}

