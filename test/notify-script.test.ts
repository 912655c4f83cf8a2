import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { renderNotifyScript } from '../cloud-init/keepalived';
import { RUN_DIR } from '../cloud-init/rendered-file';
import { buildFabricModel } from '../model/build-model';
import { TEST_PLATFORM, threeNodeSpec } from './fixtures';

/**
 * The rendered keepalived notify hook run by the real bash. keepalived starts
 * a hook per transition without waiting, so hooks finish out of order; the
 * state file must keep the newest transition (on the VMs a late BACKUP hook
 * overwrote MASTER, and the database hook then left the VIP holder read-only).
 */
describe('the keepalived notify hook', () => {
  const model = buildFabricModel(threeNodeSpec(), TEST_PLATFORM, 'stack/Fabric');
  let dir: string;
  let hook: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'afnotify-'));
    mkdirSync(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'bin', 'logger'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${dir}/logger.log'\n`);
    chmodSync(path.join(dir, 'bin', 'logger'), 0o755);
    hook = path.join(dir, 'notify');
    writeFileSync(hook, renderNotifyScript(model, model.nodes[0]).split(RUN_DIR).join(path.join(dir, 'run')));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the hook as keepalived would, ordered as if keepalived had started process `pid`. */
  const notify = (state: string, pid?: number) => {
    const r = spawnSync('bash', [hook, 'INSTANCE', 'fabric_vip', state, '100'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, ...(pid ? { FABRIC_NOTIFY_PID: String(pid) } : {}) },
      timeout: 10_000,
    });
    expect(r.status).toBe(0);
  };
  const recorded = () => readFileSync(path.join(dir, 'run', 'vrrp-fabric_vip.state'), 'utf8').trim().split(' ');

  it('records each transition with its time, state and start time', () => {
    notify('BACKUP');
    const [t, state, started] = recorded();
    expect(state).toBe('BACKUP');
    expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(10);
    expect(Number(started)).toBeGreaterThan(0);
    notify('MASTER');
    expect(recorded()[1]).toBe('MASTER');
  });

  it('keeps the newer transition when the hook of an older one finishes last', () => {
    // A process started now stands for the later transition; this test's own process, started earlier, for the older one.
    const later = spawn('sleep', ['30']);
    try {
      notify('MASTER', later.pid);
      notify('BACKUP', process.pid);
      expect(recorded()[1]).toBe('MASTER');
      expect(readFileSync(path.join(dir, 'logger.log'), 'utf8')).toContain('fabric_vip: BACKUP is older than the state already recorded; not recorded');
      // A transition after it is recorded again.
      notify('BACKUP');
      expect(recorded()[1]).toBe('BACKUP');
    } finally {
      later.kill();
    }
  });
});
