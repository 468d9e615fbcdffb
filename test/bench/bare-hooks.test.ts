// The floor benchmarks (bench/bare-hooks.ts) cut every program's body; a program the rewrite missed
// would keep its work and make the floor read lower than it is.
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bareSource } from '../../bench/bare-hooks.ts';

const BPF = new URL('../../bpf', import.meta.url).pathname;

describe('bench: bare hooks', () => {
  for (const receiver of readdirSync(BPF).filter((d) => d !== 'include' && d !== 'Makefile')) {
    it(`cuts every program of ${receiver}.bpf.c`, () => {
      const bare = bareSource(readFileSync(join(BPF, receiver, `${receiver}.bpf.c`), 'utf8'), 'empty');
      assert.ok(bare.programs > 0);
      assert.equal(bare.rewritten, bare.programs);
    });
  }

  it('puts the body right after the opening brace, in both shapes', () => {
    const src = 'SEC("tp_btf/x")\nint BPF_PROG(x, int a)\n{\n\twork(a);\n\treturn 0;\n}\n\nSEC("uprobe")\nint y(struct pt_regs *ctx) { return enter(ctx); }\n';
    const { text, rewritten } = bareSource(src, 'clock');
    assert.equal(rewritten, 2);
    assert.match(text, /\{\n\t\{ volatile __u64 t = bpf_ktime_get_ns\(\); \(void\)t; \} return 0;\n\twork\(a\);/);
    assert.match(text, /int y\(struct pt_regs \*ctx\) \{ \{ volatile __u64 t = bpf_ktime_get_ns\(\); \(void\)t; \} return 0; \}/);
  });

  it('discard keeps the bodies and drops every record', () => {
    const src = 'SEC("tp_btf/x")\nint BPF_PROG(x)\n{\n\tev = bpf_ringbuf_reserve(&events, 8, 0);\n\tbpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);\n\treturn 0;\n}\n';
    const { text, rewritten, programs } = bareSource(src, 'discard');
    assert.equal(rewritten, programs);
    assert.match(text, /bpf_ringbuf_reserve\(&events, 8, 0\);\n\tbpf_ringbuf_discard\(ev, BPF_RB_NO_WAKEUP\);/);
  });

  it('counts a program written in another shape as not rewritten', () => {
    const { rewritten, programs } = bareSource('SEC("tp_btf/x")\nint BPF_PROG(x) {\n\treturn work();\n}\n', 'empty');
    assert.equal(programs, 1);
    assert.equal(rewritten, 0);
  });
});
