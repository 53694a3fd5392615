// ws_client.js URL CASE -- a WebSocket client on npm's `ws` package (found
// through NODE_PATH) that test_websocket runs against weftd's websocket-echo
// handler (WebSocketMaxMessage 1M).  It prints one line per check; the C
// test compares the whole output.  Exit 0 when the case ran to its end, 1
// otherwise.  Every wait is bounded.
'use strict';

const WebSocket = require('ws');

const WAIT = 20000; // ms, for the whole case; generous for sanitizer builds
const SIZES = [0, 125, 126, 65536, 1 << 20];
const MAX = 1 << 20; // the server's WebSocketMaxMessage in these tests

function text(n) {
  const pattern = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return pattern.repeat(Math.floor(n / pattern.length) + 1).slice(0, n);
}

function binary(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

// The next message as { data, isBinary }, or the close as { code, reason }.
function queue(ws) {
  const items = [];
  const waiters = [];
  const put = (item) => {
    if (waiters.length > 0) waiters.shift()(item);
    else items.push(item);
  };
  ws.on('message', (data, isBinary) => put({ data, isBinary }));
  ws.on('close', (code, reason) => put({ code, reason: reason.toString() }));
  return () =>
    items.length > 0
      ? Promise.resolve(items.shift())
      : new Promise((resolve) => waiters.push(resolve));
}

async function echo(ws, next) {
  for (const n of SIZES) {
    for (const [kind, msg] of [['text', text(n)], ['binary', binary(n)]]) {
      ws.send(msg);
      const got = await next();
      const same =
        kind === 'text'
          ? !got.isBinary && got.data.toString('utf8') === msg
          : got.isBinary && Buffer.compare(got.data, msg) === 0;
      console.log(`${kind} ${n} ${same ? 'ok' : 'differs'}`);
    }
  }
  const msg = 'h\u00e9llo w\u00f6rld \u2713 \u{1d11e}';
  ws.send(msg);
  const got = await next();
  console.log('text utf-8', got.data.toString('utf8') === msg ? 'ok' : 'differs');
}

async function fragment(ws, next) {
  ws.send('Hel', { fin: false });
  ws.send('lo, ', { fin: false });
  ws.send('w\u00f6rld', { fin: true });
  let got = await next();
  console.log('fragmented text',
    got.data.toString('utf8') === 'Hello, w\u00f6rld' ? 'ok' : 'differs');
  // A character split between fragments: "h\u00e9" as 68 c3 | a9.
  ws.send(Buffer.from([0x68, 0xc3]), { fin: false, binary: false });
  ws.send(Buffer.from([0xa9]), { fin: true, binary: false });
  got = await next();
  console.log('split character',
    !got.isBinary && got.data.toString('utf8') === 'h\u00e9' ? 'ok' : 'differs');
  ws.send(Buffer.from([0, 1]), { fin: false });
  ws.send(Buffer.alloc(70000, 2), { fin: true });
  got = await next();
  const want = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(70000, 2)]);
  console.log('fragmented binary',
    got.isBinary && Buffer.compare(got.data, want) === 0 ? 'ok' : 'differs');
}

async function ping(ws, next) {
  for (const payload of [Buffer.from('weft'), Buffer.alloc(0)]) {
    const pong = new Promise((resolve) => ws.once('pong', resolve));
    ws.ping(payload);
    const got = await pong;
    console.log(`pong ${payload.length}`,
      Buffer.compare(got, payload) === 0 ? 'ok' : 'differs');
  }
  ws.send('after ping');
  console.log('echo', (await next()).data.toString('utf8'));
}

async function close(ws, next) {
  ws.send('bye');
  await next();
  ws.close(4000, 'done');
  const got = await next();
  console.log(`closed ${got.code} '${got.reason}'`);
}

async function expectClose(next) {
  const got = await next();
  if (got.code === undefined) console.log('unexpected message');
  else console.log(`closed ${got.code}`);
}

async function badUtf8(ws, next) {
  // A Buffer sent as text goes out unchecked.
  ws.send(Buffer.from([0x6f, 0x6b, 0x20, 0xff, 0xfe]), { binary: false });
  await expectClose(next);
}

async function tooBig(ws, next) {
  ws.send(Buffer.alloc(MAX));
  const got = await next();
  console.log('max', got.data.length === MAX ? 'ok' : 'differs');
  ws.send(Buffer.alloc(MAX + 1));
  await expectClose(next);
}

async function shutdown(ws, next) {
  ws.send('hi');
  await next();
  console.log('open'); // the test sends SIGTERM to weftd now
  const got = await next();
  console.log(`closed ${got.code} ${got.reason}`);
}

const CASES = {
  echo, fragment, ping, close, utf8: badUtf8, toobig: tooBig, shutdown,
};

function main() {
  const [url, name] = process.argv.slice(2);
  if (!url || !CASES[name]) {
    console.error(`usage: ws_client.js URL ${Object.keys(CASES).join('|')}`);
    process.exit(2);
  }
  const timer = setTimeout(() => {
    console.log('error timeout');
    process.exit(1);
  }, WAIT);
  const ws = new WebSocket(url);
  const next = queue(ws);
  ws.on('error', (e) => {
    console.log(`error ${e.message}`);
    process.exit(1);
  });
  ws.on('open', () => {
    CASES[name](ws, next).then(
      () => {
        // Cases that close waited for the 'close' event themselves.
        clearTimeout(timer);
        process.exit(0);
      },
      (e) => {
        console.log(`error ${e.message}`);
        process.exit(1);
      });
  });
}

main();
