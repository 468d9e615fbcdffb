// A node HTTP server for the http receiver's e2e tests (a separate process: the agent never
// traces itself). Prints "listening <port>" and answers "GET /count" with its request count.
// Optional argv[2] = upstream port: /proxy/* is forwarded there with the incoming headers.
import http from 'node:http';
import { openSync } from 'node:fs';

const upstream = process.argv[2] ? Number(process.argv[2]) : 0;
const host = process.argv[3] ?? '127.0.0.1';
let count = 0;
const big = Buffer.alloc(1 << 20, 'x');

const server = http.createServer((req, res) => {
  if (req.url === '/count') { res.end(String(count)); return; }
  count++;
  let body = 0;
  req.on('data', (d) => { body += d.length; });
  req.on('end', () => {
    const url = req.url ?? '/';
    if (url.startsWith('/fail')) { res.statusCode = 500; res.end('boom'); return; }
    if (url.startsWith('/missing')) { res.statusCode = 404; res.end('no'); return; }
    if (url.startsWith('/big')) { res.setHeader('content-type', 'application/octet-stream'); res.end(big); return; }
    if (url.startsWith('/chunked')) {
      res.setHeader('content-type', 'text/plain');
      let i = 0;
      const tick = () => { if (i++ < 5) { res.write(`chunk ${i}\n`); setTimeout(tick, 10); } else res.end(); };
      tick();
      return;
    }
    if (url.startsWith('/open-missing')) {
      // A failed syscall on the thread serving this request (openat → ENOENT), synchronously.
      try { openSync(`/nonexistent-kotel${url.slice('/open-missing'.length)}`); } catch { /* expected */ }
      res.end('tried');
      return;
    }
    if (url.startsWith('/open-after')) {
      // The same failure once the response is out: the thread serves nothing by then.
      res.end('later');
      setTimeout(() => { try { openSync(`/nonexistent-kotel${url.slice('/open-after'.length)}`); } catch { /* expected */ } }, 100);
      return;
    }
    if (url.startsWith('/slow')) { setTimeout(() => res.end('slow'), 200); return; }
    if (url.startsWith('/proxy') && upstream) {
      const headers = { traceparent: req.headers.traceparent };
      const up = http.request({ host: '127.0.0.1', port: upstream, path: url.slice('/proxy'.length) || '/', headers, agent: false }, (r) => {
        r.resume();
        r.on('end', () => res.end(`upstream ${r.statusCode}`));
      });
      up.end();
      return;
    }
    res.end(`hello ${body}`);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, host, () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
