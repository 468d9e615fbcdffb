// A node HTTPS server (node's built-in TLS: OpenSSL linked into the node binary) for the http
// receiver's TLS e2e tests. argv: cert key. Prints "listening <port>"; GET /count answers its count.
import https from 'node:https';
import { readFileSync } from 'node:fs';

const [cert, key] = process.argv.slice(2).map((p) => readFileSync(p));
let count = 0;
const server = https.createServer({ cert, key }, (req, res) => {
  if (req.url === '/count') { res.end(String(count)); return; }
  count++;
  req.resume();
  req.on('end', () => {
    if (req.url.startsWith('/fail')) { res.statusCode = 503; res.end('down'); return; }
    if (req.url.startsWith('/slow')) { setTimeout(() => res.end('slow'), 1500); return; }
    res.setHeader('content-type', 'text/plain');
    res.end(`hello ${req.url}`);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
