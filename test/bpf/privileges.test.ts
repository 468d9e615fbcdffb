import assert from 'node:assert/strict';
import { effectiveCapabilities, hasBpfPrivileges } from '../../src/bpf/privileges.ts';

describe('bpf: privileges', () => {
  it('reads CapEff and knows which capabilities allow BPF', () => {
    assert.equal(effectiveCapabilities('Name:\tx\nCapEff:\t000001ffffffffff\n'), 0x1ffffffffffn);
    assert.equal(hasBpfPrivileges(0x1ffffffffffn), true);
    assert.equal(hasBpfPrivileges(1n << 21n), true, 'CAP_SYS_ADMIN');
    assert.equal(hasBpfPrivileges((1n << 38n) | (1n << 39n)), true, 'CAP_PERFMON + CAP_BPF');
    assert.equal(hasBpfPrivileges(1n << 39n), false, 'CAP_BPF alone');
    assert.equal(hasBpfPrivileges(0n), false);
  });
});
