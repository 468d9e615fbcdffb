// The http receiver's selection settings (server, client, ports): their validation, the kernel's port
// bitmap, and the user-space port test for records the kernel could not test.
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../../src/config/index.ts';
import { receiverTypes } from '../../../src/receivers/registry.ts';
import { HttpRole } from '../../../src/receivers/http/http.layout.ts';
import { describeSelection, portBitmap, portFilter, serverPort } from '../../../src/receivers/http/selection.ts';

const configWith = (http: string) => `receivers:
  http: ${http}
exporters:
  console: {}
service:
  pipelines:
    traces: { receivers: [http], exporters: [console] }
`;
const load = (http: string) => loadConfig({ text: configWith(http), source: 'test.yaml', env: {}, receiverTypes: receiverTypes() });
const loadError = (http: string): string => {
  try {
    load(http);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail(`accepted: ${http}`);
};

describe('http receiver: selection settings', () => {
  it('follows both sides on every port by default', () => {
    const s = load('{}').receivers.http.settings as Record<string, unknown>;
    assert.equal(s.server, true);
    assert.equal(s.client, true);
    assert.deepEqual(s.ports, []);
  });

  it('accepts one side and a port list', () => {
    const s = load('{ server: false, ports: [443, 8080] }').receivers.http.settings as Record<string, unknown>;
    assert.equal(s.server, false);
    assert.equal(s.client, true);
    assert.deepEqual(s.ports, [443, 8080]);
  });

  it('rejects following neither side, naming the key and the fix', () => {
    const msg = loadError('{ server: false, client: false }');
    assert.match(msg, /receivers\.http\.client/);
    assert.match(msg, /server: false needs client: true .*remove it from the pipelines instead.* \(got false\)/);
  });

  it('rejects ports outside 1..65535 and repeated ports', () => {
    assert.match(loadError('{ ports: [0] }'), /receivers\.http\.ports\[0\].*must be >= 1/);
    assert.match(loadError('{ ports: [70000] }'), /receivers\.http\.ports\[0\].*must be <= 65535/);
    assert.match(loadError('{ ports: [80, 80] }'), /receivers\.http\.ports.*lists the same value twice/);
  });
});

describe('http receiver: port selection', () => {
  it('sets bit p of byte p/8 for each port, and nothing else', () => {
    const bits = portBitmap([1, 80, 8080, 65535]);
    assert.equal(bits.length, 8192);
    const set: number[] = [];
    for (let p = 0; p < 65536; p++) if (bits[p >> 3] & (1 << (p & 7))) set.push(p);
    assert.deepEqual(set, [1, 80, 8080, 65535]);
    assert.ok(portBitmap([]).every((b) => b === 0));
  });

  it('the server port is the local one of a server exchange and the peer one of a client exchange', () => {
    assert.equal(serverPort({ role: HttpRole.HTTP_ROLE_SERVER, localPort: 8080, peerPort: 51000 }), 8080);
    assert.equal(serverPort({ role: HttpRole.HTTP_ROLE_CLIENT, localPort: 51000, peerPort: 443 }), 443);
  });

  it('keeps listed server ports only, and never an exchange whose tuple the kernel did not learn', () => {
    assert.equal(portFilter([]), undefined, 'no list: no test at all');
    const keep = portFilter([443])!;
    assert.equal(keep({ role: HttpRole.HTTP_ROLE_CLIENT, localPort: 51000, peerPort: 443, family: 2 }), true);
    assert.equal(keep({ role: HttpRole.HTTP_ROLE_SERVER, localPort: 443, peerPort: 51000, family: 10 }), true);
    assert.equal(keep({ role: HttpRole.HTTP_ROLE_SERVER, localPort: 51000, peerPort: 443, family: 2 }), false);
    assert.equal(keep({ role: HttpRole.HTTP_ROLE_CLIENT, localPort: 0, peerPort: 0, family: 0 }), false);
  });
});

describe('http receiver: start-up line of the selection', () => {
  it('says nothing for the default and names the side and the ports otherwise', () => {
    assert.equal(describeSelection({ server: true, client: true, ports: [] }), undefined);
    assert.equal(describeSelection({ server: true, client: false, ports: [] }), 'server exchanges only (client: false)');
    assert.equal(describeSelection({ server: false, client: true, ports: [443] }), 'client requests only (server: false) on server port 443');
    assert.equal(describeSelection({ server: true, client: true, ports: [80, 8080] }), 'server and client exchanges on server ports 80, 8080');
  });
});
