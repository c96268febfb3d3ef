// DMs: conversations on the left, the open conversation on the right (>= 768 px); one pane on phones.
import {clock, field, formValues, h, mount, showErrors, toast} from "../dom.js";
import {t} from "../i18n.js";
import {api, optional, session} from "../api.js";
import {socket} from "../ws.js";
import {go} from "../app.js";

export async function render(main, r) {
  const openId = r.args[0] || null;
  const ws = socket();
  const off = [];
  const convos = h("ul", {class: "convos", id: "convos", "aria-label": t("inbox.conversations")});
  const thread = h("section", {class: "thread card", id: "thread", "aria-label": t("inbox.thread")});
  const box = h("div", {class: ["inbox", openId && "has-open"], id: "inbox"},
    h("section", {class: "card convos-pane", "aria-labelledby": "convos-h"},
      h("h1", {id: "convos-h"}, t("inbox.title")), newForm(), convos),
    thread);
  mount(main, box);

  async function loadConvos() {
    const data = await optional("GET", "/dms");
    if (!data) return mount(convos, h("li", {class: "notice"}, t("inbox.unavailable")));
    if (!data.items.length) return mount(convos, h("li", {class: "empty notice"}, t("inbox.empty")));
    mount(convos, data.items.map((c) => h("li", null,
      h("a", {href: `#/inbox/${encodeURIComponent(c.conversationId)}`, "aria-current": c.conversationId === openId ? "true" : null,
        dataset: {conversation: c.conversationId}},
      h("span", null, h("b", null, c.with.username), h("br"),
        h("small", {class: "muted"}, c.lastMessage && c.lastMessage.text ? c.lastMessage.text.slice(0, 60) : "")),
      c.unread ? h("span", {class: "unread", "aria-label": t("inbox.unread", {n: c.unread})}, String(c.unread)) : null))));
  }

  let withUser = null;
  const log = h("ol", {class: "dm-log", id: "dm-log", role: "log", "aria-live": "polite"});
  async function loadThread() {
    if (!openId) {
      mount(thread, h("p", {class: "muted"}, t("inbox.pick")));
      return;
    }
    const data = await api("GET", `/dms/${encodeURIComponent(openId)}`, {query: {limit: 50}});
    withUser = data.with;
    const input = h("input", {id: "dm-input", name: "text", autocomplete: "off", maxlength: 4000, required: true});
    const form = h("form", {class: "chat-form", id: "dm-form"},
      h("label", {for: "dm-input", class: "sr-only"}, t("room.message")), input,
      h("button", {type: "submit"}, t("room.send")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      try {
        await api("POST", "/dms", {body: {to: withUser.username, text}});
        input.value = "";
      } catch (err) { toast(err.message, "error"); }
    });
    mount(thread,
      h("div", {class: "page-head"}, h("a", {href: "#/inbox", class: "button-link back", "aria-label": t("inbox.back")}, "←"),
        h("h2", {id: "thread-h"}, data.with.username)),
      log, form);
    mount(log, data.items.map(dmLine));
    log.scrollTop = log.scrollHeight;
    api("POST", `/dms/${encodeURIComponent(openId)}/read`).catch(() => {});
  }
  function dmLine(m) {
    const mine = session.user && m.senderId === session.user.id;
    return h("li", {class: ["dm", mine && "mine"], id: `dm-${m.id}`},
      h("span", {class: "dm-text"}, m.text), h("time", {datetime: m.ts}, clock(m.ts)));
  }

  off.push(ws.on("dm:new", (d) => {
    if (d.conversationId === openId) {
      if (!document.getElementById(`dm-${d.message.id}`)) log.append(dmLine(d.message));
      log.scrollTop = log.scrollHeight;
      if (d.message.senderId !== (session.user && session.user.id)) {
        api("POST", `/dms/${encodeURIComponent(openId)}/read`).catch(() => {});
      }
    }
    loadConvos();
  }));

  function newForm() {
    const form = h("form", {class: "inline-form", id: "dm-new-form"},
      h("p", {class: "form-error", role: "alert"}),
      field(t("inbox.to"), {name: "to", id: "dm-to", required: true, autocomplete: "off"}),
      field(t("room.message"), {name: "text", id: "dm-first", required: true, autocomplete: "off"}),
      h("button", {type: "submit"}, t("inbox.start")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const v = formValues(form);
      try {
        const res = await api("POST", "/dms", {body: {to: v.to.trim(), text: v.text}});
        form.reset();
        go(`/inbox/${encodeURIComponent(res.conversationId)}`);
      } catch (err) { showErrors(form, err); }
    });
    return h("details", {class: "new-dm"}, h("summary", null, t("inbox.new")), form);
  }

  await Promise.all([loadConvos(), loadThread()]);
  return () => off.forEach((f) => f());
}
