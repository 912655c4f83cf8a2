import { readFileSync } from 'node:fs';
import { BEGIN_MARKER, END_MARKER, MEASURED_FILE, MeasuredFailover, README_FILE, renderFailoverTable, withFailoverTable } from '../bench/failover-readme';

describe("README's failover table", () => {
  it('is what the committed measured file says (npm run bench:failover:readme)', () => {
    const measured = JSON.parse(readFileSync(MEASURED_FILE, 'utf8')) as MeasuredFailover;
    const readme = readFileSync(README_FILE, 'utf8');
    expect(withFailoverTable(readme, renderFailoverTable(measured))).toBe(readme);
  });

  it('marks a missed goal and escapes pipes', () => {
    const table = renderFailoverTable({
      runs_per_fault: 2,
      seconds: 10,
      advert_interval_s: 0.2,
      measured_at: '2026-12-02T18:00:00.000Z',
      commit: 'abcdef0123',
      rows: [
        { what: 'a | b', runs: 2, median: '1.00 s', max: '2.00 s', goal: '<= 1 s', met: false },
        { what: 'c', runs: 2, median: '0.10 s', max: '0.20 s', goal: '' },
      ],
    });
    expect(table).toContain('Measured 2026-12-02 on abcdef0, 2 runs per fault');
    expect(table).toContain('| a \\| b | 2 | 1.00 s | 2.00 s | <= 1 s: **missed** |');
    expect(table).toContain('| c | 2 | 0.10 s | 0.20 s |  |');
  });

  it('refuses a README without the markers', () => {
    expect(() => withFailoverTable('no table here', 'x')).toThrow(/no failover-bench markers/);
    expect(withFailoverTable(`a\n${BEGIN_MARKER}\nold\n${END_MARKER}\nb`, 'new')).toBe(`a\n${BEGIN_MARKER}\nnew\n${END_MARKER}\nb`);
  });
});
