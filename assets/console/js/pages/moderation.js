// The review queue for moderators (admins also reach it under Admin → Reports).
import {h, mount} from "../dom.js";
import {t} from "../i18n.js";
import {reviewQueue} from "./admin.js";

export async function render(main) {
  const panel = h("div", {class: "card", id: "admin-panel"});
  mount(main, h("section", {class: "page"}, h("h1", null, t("nav.moderation")), panel));
  await reviewQueue(panel);
}
