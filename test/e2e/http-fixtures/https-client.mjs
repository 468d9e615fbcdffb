// A node HTTPS client for the TLS e2e tests: argv: port, then paths; every request goes over one
// keep-alive connection, in order. A path given as "<path>@<traceparent>" sends that traceparent.
// Prints one line per response: "<status> <socket local port>".
import https from 'node:https';

const [port, ...paths] = process.argv.slice(2);
const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
for (const p of paths) {
  const [path, traceparent] = p.split('@');
  const headers = traceparent ? { traceparent } : {};
  await new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: Number(port), path, headers, agent, rejectUnauthorized: false }, (res) => {
      const localPort = res.socket.localPort;   // the socket goes back to the agent at 'end'
      res.resume();
      res.on('end', () => { console.log(`${res.statusCode} ${localPort}`); resolve(); });
    });
    req.on('error', reject);
    req.end();
  });
}
agent.destroy();
