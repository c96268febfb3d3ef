// HLS playback for the built-in video path: hls.js (vendored, assets/console/vendor/hlsjs) where the
// browser has Media Source Extensions, the native player where it plays HLS itself (Safari, iOS).
// The live playlist answers 404 until the host's encoder connects: the player keeps retrying.

const HLS_SRC = "/assets/console/vendor/hlsjs/hls.light.min.js";
let loading = null;

function loadHls() {
  // A classic script (the UMD build sets window.Hls); script-src 'self' allows it.
  loading = loading || new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = HLS_SRC;
    s.onload = () => (window.Hls ? resolve(window.Hls) : reject(new Error("hls.js did not load")));
    s.onerror = () => { loading = null; reject(new Error("hls.js did not load")); };
    document.head.append(s);
  });
  return loading;
}

// play(video, url, {live, onState}) -> {destroy()}; onState("waiting" | "playing" | "ended" | "error").
export function play(video, url, {live = true, onState = () => {}} = {}) {
  let hls = null;
  let timer = null;
  let stopped = false;
  const retry = (ms = 2000) => { clearTimeout(timer); if (!stopped) timer = setTimeout(start, ms); };
  video.addEventListener("playing", () => onState("playing"));
  video.addEventListener("ended", () => onState("ended"));

  async function start() {
    if (stopped) return;
    let Hls = null;
    try { Hls = await loadHls(); } catch { /* fall back to the native player below */ }
    if (Hls && Hls.isSupported()) {
      if (hls) hls.destroy();
      // Workers would be blob: scripts, which the console's CSP refuses: demux on the main thread.
      hls = new Hls({enableWorker: false, lowLatencyMode: false, liveSyncDurationCount: 2,
        liveMaxLatencyDurationCount: 6, backBufferLength: live ? 10 : 60, manifestLoadingMaxRetry: 0});
      hls.on(Hls.Events.ERROR, (_e, data) => {
        if (!data.fatal) return;
        const waiting = data.response && data.response.code === 404;
        onState(waiting ? "waiting" : "error");
        hls.destroy();
        hls = null;
        retry(waiting ? 2000 : 4000);
      });
      hls.on(Hls.Events.MANIFEST_PARSED, () => { video.play().catch(() => {}); });
      hls.loadSource(url);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = url;
      video.onerror = () => { onState("waiting"); retry(3000); };
      video.play().catch(() => {});
    } else {
      onState("error");
    }
  }

  // Glass-to-glass estimate: now minus the ingest's wall-clock time of the frame on screen
  // (EXT-X-PROGRAM-DATE-TIME), kept on the element for the latency chip and the benchmarks.
  const meter = setInterval(() => {
    const at = hls && hls.playingDate;
    if (at && !video.paused) {
      const now = Date.now();
      video.dataset.latencyMs = String(now - at.getTime());
      video.dataset.latencyAt = String(now);
    }
  }, 1000);

  onState("waiting");
  start();
  return {
    destroy() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(meter);
      if (hls) hls.destroy();
      video.removeAttribute("src");
    },
  };
}
