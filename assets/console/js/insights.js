// The host's engagement panel: the score, the private nudges (`ai:suggestion`), and suggested
// cohosts with an invite button (a PK battle invitation). And the viewer's suggested gifts.
import {fmt, h, mount, toast, when} from "./dom.js";
import {t} from "./i18n.js";
import {api} from "./api.js";

export function hostInsights(box, streamId, ws) {
  const score = h("p", {id: "engagement-score", class: "stat"}, t("insights.noScore"));
  const nudges = h("ul", {id: "host-nudges", class: "plain-list", "aria-live": "polite"});
  const cohosts = h("ul", {id: "cohost-list", class: "plain-list"});
  mount(box, h("h2", {id: "insights-h"}, t("insights.title")), score,
    h("h3", null, t("insights.nudges")), nudges, h("h3", null, t("insights.cohosts")), cohosts);
  const showNudge = (n) => {
    nudges.querySelector(".empty")?.remove();
    nudges.prepend(h("li", {class: "notice nudge", dataset: {action: n.action}}, n.reason, " ",
      h("span", {class: "muted"}, when(n.ts))));
  };
  async function load() {
    try {
      const view = await api("GET", `/streams/${encodeURIComponent(streamId)}/insights`);
      if (view.engagementScore !== null) score.textContent = t("insights.score", {n: Math.round(view.engagementScore)});
      mount(nudges, view.nudges.length ? [] : h("li", {class: "empty"}, t("insights.noNudges")));
      view.nudges.slice().reverse().forEach(showNudge);
    } catch { /* not live yet */ }
    try {
      const list = await api("GET", `/streams/${encodeURIComponent(streamId)}/cohosts`);
      if (!list.items.length) return mount(cohosts, h("li", {class: "empty"}, t("insights.noCohosts")));
      mount(cohosts, list.items.map((c) => h("li", {dataset: {stream: c.streamId}},
        h("strong", null, `@${c.hostName}`), ` ${c.title} · ${fmt(c.viewers)} · `,
        h("span", {class: "muted"}, c.reasons.join(", ")), " ",
        h("button", {type: "button", class: "mini", onclick: async () => {
          try {
            await api("POST", `/streams/${encodeURIComponent(streamId)}/cohosts/invite`,
              {body: {candidateStreamId: c.streamId}});
            toast(t("insights.invited"));
          } catch (e) { toast(e.message, "error"); }
        }}, t("insights.invite")))));
    } catch { mount(cohosts, h("li", {class: "empty"}, t("insights.noCohosts"))); }
  }
  const offs = [
    ws.on("ai:suggestion", (n) => { if (n.streamId === streamId) showNudge(n); }),
    ws.on("metrics:update", (m) => {
      if (m.streamId === streamId && m.engagementScore !== null && m.engagementScore !== undefined) {
        score.textContent = t("insights.score", {n: Math.round(m.engagementScore)});
      }
    }),
  ];
  load();
  return () => offs.forEach((f) => f());
}

export async function suggestedGifts(box, streamId, buttonFor) {
  let data;
  try { data = await api("GET", `/streams/${encodeURIComponent(streamId)}/gift-suggestions`); } catch { return; }
  if (!data.items.length) { box.hidden = true; return; }
  mount(box, h("h3", {id: "suggested-h"}, t("room.suggested")),
    h("div", {class: "suggested", role: "group", "aria-labelledby": "suggested-h"}, data.items.map((g) =>
      h("button", {type: "button", class: "chip suggestion", id: `suggest-${g.giftId}`, title: g.reasons.join(", "),
        onclick: () => buttonFor(g.giftId)?.click()},
      h("img", {src: g.art, alt: "", width: 20, height: 20}), ` ${g.name} · ${fmt(g.price)}`))));
  box.hidden = false;
}
