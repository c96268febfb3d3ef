// Load client for bench/sio_fanout.py: N Socket.IO viewers (npm socket.io-client, websocket
// transport) in one Node process, all joined to one stream.
//
//   NODE_PATH=<dir with socket.io-client> node bench/sio_fanout_client.js PORT TOKEN STREAM N SAMPLE_EVERY
//
// Same stdin protocol as fanout_client.js: prints "READY" once every socket has joined; then
// reset | count | stats | quit. Counts every event; on every SAMPLE_EVERY-th socket each
// chat:new whose text starts with "T<monotonic ns>" yields a latency sample.
'use strict';
const { io } = require('socket.io-client');
const readline = require('readline');

const [port, token, streamId, nStr, sampleStr] = process.argv.slice(2);
const N = parseInt(nStr, 10);
const SAMPLE = Math.max(1, parseInt(sampleStr, 10));
let frames = 0, open = 0, closed = 0, last = 0;
let lat = [];
const socks = [];

function nowMs() { return Number(process.hrtime.bigint()) / 1e6; }

function connect(i) {
  return new Promise((resolve, reject) => {
    const s = io(`http://127.0.0.1:${port}`, { auth: { token }, transports: ['websocket'], reconnection: false,
                                                forceNew: true });
    const sample = i % SAMPLE === 0;
    s.on('connect_error', (e) => reject(e));
    s.on('disconnect', () => { closed++; });
    s.on('connect', async () => {
      open++;
      const state = await s.emitWithAck('stream:join', { streamId });
      if (state.event !== 'stream:state') { reject(new Error(JSON.stringify(state))); return; }
      s.onAny((event, data) => {
        frames++;
        const now = nowMs();
        last = now;
        if (sample && event === 'chat:new' && data && typeof data.text === 'string' && data.text[0] === 'T') {
          lat.push(now - parseInt(data.text.slice(1), 10) / 1e6);
        }
      });
      resolve(s);
    });
  });
}

async function main() {
  for (let i = 0; i < N; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + 50); j++) batch.push(connect(j));
    socks.push(...await Promise.all(batch));
  }
  process.stdout.write('READY\n');
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'reset') { frames = 0; lat = []; process.stdout.write('OK\n'); }
  else if (cmd === 'count') process.stdout.write(JSON.stringify({ frames, ends: 0, lat: [], last, open, closed }) + '\n');
  else if (cmd === 'stats') process.stdout.write(JSON.stringify({ frames, ends: 0, lat, last, open, closed }) + '\n');
  else if (cmd === 'quit') { for (const s of socks) s.close(); process.exit(0); }
});

main().catch((e) => { process.stdout.write('ERROR ' + e.message + '\n'); process.exit(1); });
