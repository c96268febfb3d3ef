// The npm socket.io-client against /socket.io/: join, chat, a gift, a reconnect.
//   node sio_client.js URL TOKEN STREAM_ID
// Prints one JSON line per step on stdout; the Python test drives the HTTP side (gifts) and
// answers on stdin ("go" after each gift it sends).
'use strict';
const { io } = require('socket.io-client');
const readline = require('readline');

const [url, token, streamId] = process.argv.slice(2);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const lines = readline.createInterface({ input: process.stdin });
const next = () => new Promise((resolve) => lines.once('line', resolve));
const waitFor = (socket, event, pred = () => true) => new Promise((resolve) => {
  const on = (data) => { if (pred(data)) { socket.off(event, on); resolve(data); } };
  socket.on(event, on);
});

async function main() {
  const socket = io(url, { auth: { token }, reconnectionDelay: 100, reconnectionDelayMax: 500 });
  let connects = 0;
  const joined = [];
  socket.on('connect', async () => {
    connects += 1;
    // every (re)connect joins the room again, as an app would
    const state = await socket.emitWithAck('stream:join', { streamId });
    joined.push(state.event);
    say({ step: 'joined', connects, event: state.event, stream: state.data.stream.id,
          transport: socket.io.engine.transport.name });
  });
  const ready = await waitFor(socket, 'ready');
  say({ step: 'ready', userId: ready.userId });
  while (joined.length < 1) await new Promise((r) => setTimeout(r, 20));
  const chat = waitFor(socket, 'chat:new', (m) => m.text === 'hello from node');
  const ack = await socket.emitWithAck('chat:new', { streamId, text: 'hello from node' });
  say({ step: 'chat', ack: ack.event, echoed: (await chat).text });
  say({ step: 'send-gift' });
  let gift = waitFor(socket, 'gift:sent');
  await next();
  say({ step: 'gift', giftId: (await gift).giftId });
  // drop the transport under the client: it reconnects by itself and joins again
  socket.io.engine.close();
  while (joined.length < 2) await new Promise((r) => setTimeout(r, 20));
  gift = waitFor(socket, 'gift:sent');
  say({ step: 'send-gift' });
  await next();
  say({ step: 'gift-after-reconnect', giftId: (await gift).giftId, connects });
  socket.close();
  process.exit(0);
}
setTimeout(() => { say({ step: 'timeout' }); process.exit(2); }, 30000);
main().catch((e) => { say({ step: 'error', message: String(e) }); process.exit(1); });
