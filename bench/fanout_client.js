// Load client for bench/fanout.py: N websocket viewers in one Node process (no npm deps).
//
//   node bench/fanout_client.js PORT PATH N SAMPLE_EVERY [JOIN_JSON]
//
// Opens N sockets (batches of 50), upgrades them, optionally sends JOIN_JSON (masked text
// frame) on each, then prints "READY". Every text frame is counted (the "END" marker is
// not); on every SAMPLE_EVERY-th socket each frame whose text carries a "T<monotonic ns>"
// stamp yields one latency sample (process.hrtime = CLOCK_MONOTONIC, same clock as
// Python's time.monotonic_ns on Linux). Commands on stdin, one per line:
//   reset  -> zero counters and samples      stats -> one JSON line {frames, ends, lat, last, open, closed}
//   count  -> the same without the samples
//   quit   -> close sockets and exit
'use strict';
const net = require('net');
const crypto = require('crypto');
const readline = require('readline');

const [port, path, nStr, sampleStr, join] = process.argv.slice(2);
const N = parseInt(nStr, 10);
const SAMPLE = Math.max(1, parseInt(sampleStr, 10));
const STAMP = Buffer.from('"text":"T');

let frames = 0, ends = 0, open = 0, closed = 0, last = 0;
let lat = [];
const socks = [];

function masked(text) {
  const payload = Buffer.from(text);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x81, 0x80 | n]) : Buffer.from([0x81, 0x80 | 126, n >> 8, n & 255]);
  const mask = crypto.randomBytes(4);
  for (let i = 0; i < n; i++) payload[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, payload]);
}

function nowMs() { return Number(process.hrtime.bigint()) / 1e6; }

function connect(i) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: +port });
    s.setNoDelay(true);
    const sample = i % SAMPLE === 0;
    let upgraded = false;
    let buf = null;
    s.on('connect', () => {
      const key = crypto.randomBytes(16).toString('base64');
      s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
              `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    s.on('error', (e) => { if (!upgraded) reject(e); });
    s.on('close', () => { closed++; });
    s.on('data', (chunk) => {
      buf = buf && buf.length ? Buffer.concat([buf, chunk]) : chunk;
      if (!upgraded) {
        const k = buf.indexOf('\r\n\r\n');
        if (k < 0) return;
        if (!buf.slice(0, 12).toString().includes('101')) { reject(new Error(buf.slice(0, k).toString())); return; }
        buf = buf.subarray(k + 4);
        upgraded = true;
        open++;
        resolve(s);
      }
      const now = sample ? nowMs() : 0;
      let pos = 0;
      const end = buf.length;
      while (end - pos >= 2) {
        const op = buf[pos] & 0x0f;
        let n = buf[pos + 1] & 0x7f, hl = 2;
        if (n === 126) { if (end - pos < 4) break; n = buf.readUInt16BE(pos + 2); hl = 4; }
        else if (n === 127) { if (end - pos < 10) break; n = Number(buf.readBigUInt64BE(pos + 2)); hl = 10; }
        if (end - pos < hl + n) break;
        if (op === 1) {
          if (n === 3 && buf[pos + hl] === 69 && buf[pos + hl + 1] === 78 && buf[pos + hl + 2] === 68) ends++;
          else {
            frames++;
            if (sample) {
              const j = buf.indexOf(STAMP, pos + hl);
              if (j >= 0 && j < pos + hl + n) {
                let k = j + STAMP.length, v = 0;
                while (buf[k] >= 48 && buf[k] <= 57) { v = v * 10 + (buf[k] - 48); k++; }
                lat.push(now - v / 1e6);
              }
            }
          }
        }
        pos += hl + n;
      }
      buf = pos >= end ? null : buf.subarray(pos);
      last = now || nowMs();
    });
  });
}

async function main() {
  // JOIN may be several frames separated by newlines (Socket.IO: CONNECT, then the join event)
  const joinFrames = join ? join.split('\n').map(masked) : [];
  for (let i = 0; i < N; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + 50); j++) batch.push(connect(j));
    const opened = await Promise.all(batch);
    for (const s of opened) { socks.push(s); for (const f of joinFrames) s.write(f); }
  }
  process.stdout.write('READY\n');
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'reset') { frames = 0; ends = 0; lat = []; process.stdout.write('OK\n'); }
  else if (cmd === 'count') {
    process.stdout.write(JSON.stringify({ frames, ends, lat: [], last, open, closed }) + '\n');
  } else if (cmd === 'stats') {
    process.stdout.write(JSON.stringify({ frames, ends, lat, last, open, closed }) + '\n');
  } else if (cmd === 'quit') { for (const s of socks) s.destroy(); process.exit(0); }
});

main().catch((e) => { process.stdout.write('ERROR ' + e.message + '\n'); process.exit(1); });
