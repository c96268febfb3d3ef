// The /ws client: envelope {event, data, id, ts}, auth as the first frame (the token never
// lands in a URL or an access log), automatic reconnect with back-off, rejoin of the room.

import {clearSession, refresh, session} from "./api.js";

const CLOSE_AUTH = 4001;
const CLOSE_REVOKED = 4003;        // banned, suspended, logged out: the session is over
const CLOSE_TOKEN_EXPIRED = 4007;  // the access token ran out before a re-auth
const REAUTH_AHEAD_MS = 60000;     // refresh and re-auth this long before the token expires
let seq = 0;

export class Socket {
  constructor() {
    this.handlers = new Map();     // event -> Set(fn)
    this.ws = null;
    this.ready = false;
    this.room = null;              // stream id to (re)join
    this.backoff = 500;
    this.stopped = false;
    this.queue = [];
  }

  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(fn);
    return () => this.handlers.get(event).delete(fn);
  }

  emit(event, data, env) {
    for (const fn of this.handlers.get(event) || []) {
      try { fn(data, env); } catch (e) { console.error(e); }
    }
    for (const fn of this.handlers.get("*") || []) fn(event, data, env);
  }

  connect() {
    if (this.ws || this.stopped || !session.access) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws`);
    this.ws = ws;
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify(envelope("auth", {token: session.access})));
    });
    ws.addEventListener("message", (m) => {
      let env;
      try { env = JSON.parse(m.data); } catch { return; }
      if (env.event === "ready") {
        const first = !this.ready;
        this.ready = true;
        this.backoff = 500;
        this.scheduleReauth(env.data && env.data.expiresAt);
        if (first) {
          if (this.room) this.send("stream:join", {streamId: this.room});
          for (const [e, d] of this.queue.splice(0)) this.send(e, d);
          this.emit("connection", {up: true});
        }
      }
      this.emit(env.event, env.data, env);
    });
    ws.addEventListener("close", async (e) => {
      this.ws = null;
      this.ready = false;
      clearTimeout(this.reauthTimer);
      this.emit("connection", {up: false, code: e.code, reason: e.reason});
      if (this.stopped) return;
      if (e.code === CLOSE_REVOKED) {
        this.stopped = true;
        clearSession();
        return;
      }
      if ((e.code === CLOSE_AUTH || e.code === CLOSE_TOKEN_EXPIRED) && !(await refresh())) return;
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    });
  }

  // A socket never outlives its access token: shortly before it expires, refresh the token
  // and send it as a new `auth` frame (answered with another `ready`).
  scheduleReauth(expiresAt) {
    clearTimeout(this.reauthTimer);
    if (!expiresAt) return;
    const wait = Math.max(1000, Date.parse(expiresAt) - Date.now() - REAUTH_AHEAD_MS);
    this.reauthTimer = setTimeout(async () => {
      if (!this.ws || !this.ready || !(await refresh())) return;
      this.ws.send(JSON.stringify(envelope("auth", {token: session.access})));
    }, wait);
  }

  send(event, data) {
    if (!this.ready) {
      this.queue.push([event, data]);
      this.connect();
      return null;
    }
    const env = envelope(event, data);
    this.ws.send(JSON.stringify(env));
    return env.id;
  }

  join(streamId) {
    this.room = streamId;
    if (this.ready) this.send("stream:join", {streamId});
    else this.connect();
  }

  leave() {
    if (this.room && this.ready) this.send("stream:leave", {streamId: this.room});
    this.room = null;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.reauthTimer);
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
  }
}

function envelope(event, data) {
  return {event, data, id: `c${Date.now().toString(36)}${(++seq).toString(36)}`, ts: new Date().toISOString()};
}

let shared = null;
export function socket() {
  if (!shared || shared.stopped) shared = new Socket();
  shared.connect();
  return shared;
}

export function closeSocket() {
  if (shared) shared.close();
  shared = null;
}
