// Test peers for the tcp e2e test, run as separate processes (optionally inside a network namespace):
//   server <host> <port> <replyBytes> <connections>  — accepts, reads until EOF, replies, closes
//   client <host> <port> <sendBytes> <connections>   — connects, sends, half-closes, reads the reply
//   refused <host> <port>                            — one connect expected to be refused
//   rst-server <host> <port>                         — accepts one connection and aborts it (RST)
//   rst-client <host> <port>                         — connects, sends, reports the error it gets
import { createConnection, createServer } from 'node:net';

const [mode, host, portText, bytesText, countText] = process.argv.slice(2);
const port = Number(portText), bytes = Number(bytesText), count = Number(countText ?? 1);

if (mode === 'server') {
  let served = 0;
  const server = createServer((sock) => {
    let got = 0;
    sock.on('data', (d: Buffer) => { got += d.length; });
    sock.on('end', () => sock.end(Buffer.alloc(bytes, 1), () => { if (++served === count) server.close(); }));
    void got;
  });
  server.listen(port, host, () => process.stdout.write('listening\n'));
} else if (mode === 'client') {
  let received = 0;
  const one = (i: number): void => {
    if (i === count) { process.stdout.write(`received ${received}\n`); return; }
    const sock = createConnection({ host, port }, () => sock.end(Buffer.alloc(bytes, 2)));
    sock.on('data', (d: Buffer) => { received += d.length; });
    sock.on('close', () => one(i + 1));
  };
  one(0);
} else if (mode === 'refused') {
  const sock = createConnection({ host, port });
  sock.on('error', (e: NodeJS.ErrnoException) => { process.stdout.write(`${e.code}\n`); });
} else if (mode === 'rst-server') {
  const server = createServer((sock) => {
    // Wait for the client's bytes so the reset hits an established, used connection.
    sock.once('data', () => { sock.resetAndDestroy(); server.close(); });
  });
  server.listen(port, host, () => process.stdout.write('listening\n'));
} else if (mode === 'rst-client') {
  const sock = createConnection({ host, port }, () => sock.write('hello'));
  sock.on('error', (e: NodeJS.ErrnoException) => { process.stdout.write(`${e.code}\n`); });
  sock.on('close', () => { if (!sock.errored) process.stdout.write('closed\n'); });
}
