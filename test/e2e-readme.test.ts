import { readFileSync } from 'node:fs';
import { BEGIN_MARKER, END_MARKER, measuredRuns, README_FILE, renderE2eTable, resultCell, withE2eTable } from '../bench/e2e-readme';

describe("README's VM-tier table", () => {
  it('is what the committed measured files say, for both example KVM stacks (npm run e2e:readme)', () => {
    const runs = measuredRuns().map((m) => m.run);
    expect(runs.map((r) => r.stack)).toEqual(['kvm-fabric', 'kvm-fabric-full']);
    const readme = readFileSync(README_FILE, 'utf8');
    expect(withE2eTable(readme, renderE2eTable(runs))).toBe(readme);
  });

  it('puts failures first, collapses the boots of the nodes into a range and escapes pipes', () => {
    const table = renderE2eTable([
      {
        stack: 'a',
        seconds: 100,
        passed: 3,
        failed: 1,
        ci: true,
        day2: false,
        measured_at: '2026-12-03T09:00:00.000Z',
        commit: '0123456789abcdef-dirty',
        results: [
          { id: 'boot-n1', scenario: 'boot n1', outcome: 'pass', seconds: 200, detail: '' },
          { id: 'boot-n2', scenario: 'boot n2', outcome: 'fail', seconds: 250.5, detail: '' },
          { id: 'app-poweroff', scenario: 'power off | n2', outcome: 'pass', detail: '', total: 300, failed: 0, max_latency_s: 1.5 },
          { id: 'haproxy-crash', scenario: 'kill', outcome: 'pass', seconds: 0.6, detail: '', measured: { vip_moves: 1 } },
        ],
      },
    ]);
    expect(table).toContain('- `a`: measured 2026-12-03 on 0123456-dirty, CI=true, no day 2; 3 passed, 1 failed, 100 s.');
    expect(table).toContain('| `boot-<node>` | each node booted: cloud-init finished without an error (range over the nodes) | **1 of 2 failed**; 200.00-250.50 s |');
    expect(table).toContain('| `app-poweroff` | power off \\| n2 | 0 of 300 requests failed, slowest 1.50 s |');
    expect(table).toContain('| `haproxy-crash` | kill | 0.60 s; VIP moved 1 time |');
  });

  it('says "passed" for a result without figures, and nothing for a scenario a stack does not have', () => {
    expect(resultCell([{ id: 'one-vip-holder', scenario: 'x', outcome: 'pass', detail: '' }])).toBe('passed');
    expect(resultCell([])).toBe('');
  });

  it('gives a repeated scenario its median and max over the runs', () => {
    const runs = [{ answered_s: 1.1 }, { answered_s: 1.3 }, { answered_s: 1.9 }];
    expect(resultCell([{ id: 'vip-holder-poweroff', scenario: 'x', outcome: 'pass', seconds: 1.3, detail: '', measured: { runs, median_s: 1.3, max_s: 1.9 } }])).toBe('1.30 s; median of 3 runs, max 1.90 s');
  });

  it('refuses a README without the markers', () => {
    expect(() => withE2eTable('no table here', 'x')).toThrow(/no e2e-results markers/);
    expect(withE2eTable(`a\n${BEGIN_MARKER}\nold\n${END_MARKER}\nb`, 'new')).toBe(`a\n${BEGIN_MARKER}\nnew\n${END_MARKER}\nb`);
  });
});
