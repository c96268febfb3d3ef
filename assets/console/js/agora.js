// Agora playback and browser broadcasting (media_provider = agora) with Agora's Web SDK
// (agora-rtc-sdk-ng, vendored under assets/console/vendor/). The API mints the RTC token:
// viewers join as audience with a subscriber token, the host as host with a publisher token.

const SDK_SRC = "/assets/console/vendor/agora-rtc-sdk-ng/AgoraRTC_N-production.js";
let loading = null;

export function loadAgora() {
  loading = loading || new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = SDK_SRC;
    s.onload = () => {
      const A = window.AgoraRTC;
      if (!A) return reject(new Error("Agora SDK did not load"));
      A.setLogLevel(3);          // errors only: the SDK is chatty
      if (A.disableLogUpload) A.disableLogUpload();
      resolve(A);
    };
    s.onerror = () => { loading = null; reject(new Error("Agora SDK did not load")); };
    document.head.append(s);
  });
  return loading;
}

// Viewer: join as audience, play the host's tracks into `container`. onState("connecting" | "playing" | "error").
export async function watch(container, m, onState = () => {}) {
  onState("connecting");
  const A = await loadAgora();
  const client = A.createClient({mode: "live", codec: "vp8"});
  await client.setClientRole("audience");
  client.on("user-published", async (user, kind) => {
    await client.subscribe(user, kind);
    if (kind === "video") { user.videoTrack.play(container); onState("playing"); }
    if (kind === "audio") user.audioTrack.play();
  });
  client.on("user-unpublished", (_user, kind) => { if (kind === "video") onState("connecting"); });
  try {
    await client.join(m.appId, m.channel, m.token, m.uid);
  } catch (e) {
    onState("error", e);
  }
  return {destroy() { client.leave().catch(() => {}); }};
}

// Host: camera + microphone from this browser, previewed in `preview`, published to the channel.
export async function broadcast(preview, m, onState = () => {}) {
  const A = await loadAgora();
  const [mic, cam] = await A.createMicrophoneAndCameraTracks();
  cam.play(preview);
  onState("preview");
  const client = A.createClient({mode: "live", codec: "vp8"});
  await client.setClientRole("host");
  try {
    await client.join(m.appId, m.channel, m.token, m.uid);
    await client.publish([mic, cam]);
    onState("live");
  } catch (e) {
    onState("error", e);
  }
  return {
    stop() {
      mic.close();
      cam.close();
      client.leave().catch(() => {});
    },
  };
}
