// Drives headless Chromium through the DevTools protocol (with the `ws` package) for
// tracker_ws_e2e_test: two pages load page.html; one seeds a file through our tracker, the other
// downloads it from the magnet link, and the two SHA-256 digests and sizes are printed as JSON.
//   node cdp-driver.mjs CHROMIUM PAGE_URL TRACKER_URL SIZE TIMEOUT_S
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const WebSocket = require(process.env.WS_MODULE);
const [chromium, pageUrl, tracker, size, timeoutS] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'manifold-chromium-'));
const browser = spawn(chromium, [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions',
  // WebRTC between the two pages over loopback only: no mDNS names, loopback candidates allowed.
  '--disable-features=WebRtcHideLocalIpsWithMdns', '--allow-loopback-in-peer-connection',
  '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe'] });
let browserLog = '';
browser.stderr.on('data', (d) => { browserLog += d; });

function finish(code, message) {
  if (message) console.log(message);
  const done = () => {
    try { rmSync(profile, { recursive: true, force: true }); } catch {}
    process.exit(code);
  };
  if (browser.exitCode !== null || browser.signalCode !== null) return done();
  browser.once('exit', done);
  browser.kill('SIGKILL');
}
setTimeout(() => finish(1, JSON.stringify({ error: 'timeout', browserLog: browserLog.slice(-2000) })),
  Number(timeoutS) * 1000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function endpoint() {
  const file = join(profile, 'DevToolsActivePort');
  for (let i = 0; i < 300; i++) {
    if (existsSync(file)) {
      const [port, path] = readFileSync(file, 'utf8').split('\n');
      if (path) return `ws://127.0.0.1:${port}${path}`;
    }
    await sleep(100);
  }
  throw new Error('Chromium did not start: ' + browserLog.slice(-2000));
}

const cdp = new WebSocket(await endpoint());
await new Promise((r, j) => { cdp.once('open', r); cdp.once('error', j); });
let nextId = 1;
const waiting = new Map();
cdp.on('message', (m) => {
  const msg = JSON.parse(m.toString());
  if (msg.id && waiting.has(msg.id)) {
    const { resolve, reject } = waiting.get(msg.id);
    waiting.delete(msg.id);
    if (msg.error) reject(new Error(JSON.stringify(msg.error))); else resolve(msg.result);
  }
});
const send = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
  const id = nextId++;
  waiting.set(id, { resolve, reject });
  cdp.send(JSON.stringify({ id, method, params, sessionId }));
});

async function openPage() {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  await send('Page.enable', {}, sessionId);
  await send('Page.navigate', { url: pageUrl }, sessionId);
  for (let i = 0; i < 200; i++) {
    const r = await send('Runtime.evaluate', { expression: 'typeof WebTorrent', returnByValue: true }, sessionId);
    if (r.result.value === 'function') return sessionId;
    await sleep(100);
  }
  throw new Error('page did not load WebTorrent');
}
async function evaluate(sessionId, expression) {
  const r = await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
  if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails));
  return r.result.value;
}

try {
  const seeder = await openPage();
  const leecher = await openPage();
  const seeded = await evaluate(seeder, `seed(${Number(size)}, ${JSON.stringify(tracker)})`);
  const got = await evaluate(leecher, `download(${JSON.stringify(seeded.magnet)}, ${JSON.stringify(tracker)})`);
  finish(0, JSON.stringify({ seeded: { sha256: seeded.sha256, size: seeded.size }, downloaded: got, magnet: seeded.magnet }));
} catch (e) {
  finish(1, JSON.stringify({ error: String(e), browserLog: browserLog.slice(-2000) }));
}
