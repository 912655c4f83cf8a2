import { describeDisruption, SampleRecord, summarizeDisruption } from '../e2e/lib/disruption-sampler';

const sample = (s: string, t0: number, ok: boolean, ms = 10, extra: Partial<SampleRecord> = {}): SampleRecord => ({ s, t0, t1: t0 + ms, ok, ...extra });

describe('disruption summary (OpenShift disruption monitor rules)', () => {
  it('counts from the first failing sample start to the next success start, summed, per sampler', () => {
    const records = [
      sample('gui/new', 0, true),
      sample('gui/new', 50, false, 2000, { error: 'deadline' }),
      sample('gui/new', 2050, false, 30, { error: 'ECONNREFUSED' }),
      sample('gui/new', 2100, true),
      sample('gui/new', 2150, false, 20, { status: 503 }),
      sample('gui/new', 2200, true),
      sample('gui/reused', 0, true),
      sample('gui/reused', 50, true, 400),
    ];
    const [nw, reused] = summarizeDisruption(records);
    expect(nw).toEqual({
      sampler: 'gui/new',
      samples: 6,
      failed: 3,
      disruptionS: 2.1,
      slowestS: 2,
      failures: [
        { atS: 0.05, kind: 'deadline', latencyS: 2 },
        { atS: 2.05, kind: 'ECONNREFUSED', latencyS: 0.03 },
        { atS: 2.15, kind: '503', latencyS: 0.02 },
      ],
    });
    expect(reused).toMatchObject({ sampler: 'gui/reused', failed: 0, disruptionS: 0, slowestS: 0.4 });
    expect(describeDisruption([nw])).toBe('gui/new: 3/6 failed, disrupted 2.10 s, slowest 2.00 s (deadline at 0.05 s, ECONNREFUSED at 2.05 s, 503 at 2.15 s)');
  });

  it('a run that ends failing is disrupted until its last sample ended, and fromMs drops earlier samples', () => {
    const records = [sample('nbi/new', 0, false, 10), sample('nbi/new', 100, true), sample('nbi/new', 200, false, 10), sample('nbi/new', 300, false, 40)];
    expect(summarizeDisruption(records)[0].disruptionS).toBe(0.24);
    expect(summarizeDisruption(records, 150)[0]).toMatchObject({ samples: 2, failed: 2, disruptionS: 0.14 });
  });
});
