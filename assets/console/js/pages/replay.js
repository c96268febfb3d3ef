// A stream's replay (built-in video path): the recording of an ended stream, played with hls.js.
import {h, mount, when} from "../dom.js";
import {t} from "../i18n.js";
import {api} from "../api.js";
import {play} from "../player.js";

export async function render(main, r) {
  const streamId = r.args[0];
  let player = null;
  let timer = null;
  const body = h("div", {class: "replay", id: "replay"});
  const heading = h("h1", {id: "replay-title"}, t("replay.title"));
  mount(main, h("section", {class: "page"}, heading, body));

  async function load() {
    try {
      const [stream, rep] = await Promise.all([api("GET", `/streams/${streamId}`), api("GET", `/streams/${streamId}/replay`)]);
      heading.textContent = `${t("replay.title")}: ${stream.title}`;
      if (rep.status === "ready" && rep.playbackUrl) {
        const video = h("video", {id: "replay-video", class: "stream-video", controls: true, playsinline: true,
          "aria-label": t("replay.title")});
        const secs = Math.round(rep.durationSeconds || 0);
        mount(body, h("div", {class: "video replay-video"}, video),
          h("p", {class: "muted"}, t("replay.duration", {min: Math.floor(secs / 60), sec: secs % 60}),
            stream.host ? ` · @${stream.host.username}` : "", stream.endedAt ? ` · ${when(stream.endedAt)}` : ""));
        player = play(video, rep.playbackUrl, {live: false});
      } else if (rep.status === "processing") {
        mount(body, h("p", {role: "status"}, t("replay.processing")));
        timer = setTimeout(load, 2000);
      } else if (rep.status === "live") {
        mount(body, h("p", null, t("replay.live")),
          h("a", {href: `#/room/${encodeURIComponent(streamId)}`, class: "button-link"}, t("replay.openRoom")));
      } else {
        mount(body, h("p", null, t(`replay.${["expired", "failed"].includes(rep.status) ? rep.status : "none"}`)));
      }
    } catch (e) {
      mount(body, h("p", {role: "alert"}, e.message));
    }
  }
  await load();
  return () => { clearTimeout(timer); if (player) player.destroy(); };
}
