// A WebTorrent-style signalling exchange over wss:// with the npm `ws` client (WS_MODULE: its
// path): peer A announces, peer B announces with one offer, and A must receive that offer. Prints
// "announced" after A's announce answer and "relayed" when the offer arrives; exits 1 on a
// timeout or an error. Usage: node wss-client.mjs URL CA_FILE SERVERNAME
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const WebSocket = require(process.env.WS_MODULE);
const [url, caFile, servername] = process.argv.slice(2);
const options = { ca: readFileSync(caFile), servername };
const hash = 'wss-test-info-hash-1';
const id = (tag) => (tag + '-peer-' + '-'.repeat(20)).slice(0, 20);
const announce = (peer, offers) => JSON.stringify({
  action: 'announce', info_hash: hash, peer_id: id(peer), left: 100, numwant: offers,
  offers: Array.from({ length: offers }, (_, i) => (
    { offer_id: ('offer' + i + '-'.repeat(20)).slice(0, 20), offer: { type: 'offer', sdp: 'sdp-' + i } })),
});
setTimeout(() => { console.log('timeout'); process.exit(1); }, 10000);
const fail = (e) => { console.log('error ' + e.message); process.exit(1); };

const a = new WebSocket(url, options);
a.on('error', fail);
a.on('open', () => a.send(announce('a', 0)));
a.on('message', (data) => {
  const m = JSON.parse(data.toString());
  if (m.offer) {
    console.log('relayed ' + m.offer.sdp);
    process.exit(0);
  }
  if (m.action === 'announce' && m.interval) {
    console.log('announced interval=' + m.interval);
    const b = new WebSocket(url, options);
    b.on('error', fail);
    b.on('open', () => b.send(announce('b', 1)));
  }
});
