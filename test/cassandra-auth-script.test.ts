import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cassandraAuthFiles, CASSANDRA_AUTH_ENV, CASSANDRA_AUTH_SCRIPT } from '../cloud-init/cassandra-auth';
import { buildFabricModel } from '../model/build-model';
import { CASSANDRA_ADMIN_ROLE } from '../model/defaults';
import { TEST_PLATFORM, threeNodeSpec } from './fixtures';

/**
 * The rendered cassandra-auth run by the real bash against a stand-in for
 * cqlsh that keeps a cluster's roles in files: which role logs in with which
 * password, what the script asked for on stdin and on its command line.
 * (Cassandra itself cannot be installed on this machine: Apache's
 * repository is out of reach.)
 */
describe('the Cassandra authentication set-up script', () => {
  const model = buildFabricModel(threeNodeSpec({ cassandra: { members: ['node1', 'node2', 'node3'] } }), TEST_PLATFORM, 'stack/Fabric');
  const node = model.nodes[0];
  const password = 'CassandraAdminTestOnly4';
  let dir: string;

  const run = (env: Record<string, string> = {}) => {
    const files = cassandraAuthFiles(model, node, password);
    const script = path.join(dir, 'cassandra-auth');
    writeFileSync(script, files.find((f) => f.path === CASSANDRA_AUTH_SCRIPT)!.content);
    writeFileSync(path.join(dir, 'cassandra-auth.env'), files.find((f) => f.path === CASSANDRA_AUTH_ENV)!.content);
    return spawnSync('bash', [script, path.join(dir, 'cassandra-auth.env')], {
      env: { PATH: `${dir}/bin:/usr/bin:/bin`, TMPDIR: path.join(dir, 'run'), CASSANDRA_AUTH_PAUSE_SECONDS: '0', ...env },
      encoding: 'utf8',
      timeout: 20000,
    });
  };
  const state = (name: string) => path.join(dir, 'state', name);
  const read = (name: string) => (existsSync(path.join(dir, name)) ? readFileSync(path.join(dir, name), 'utf8') : '');

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'afcass-'));
    for (const d of ['bin', 'state', 'run']) mkdirSync(path.join(dir, d));
    const stub = (name: string, body: string) => {
      writeFileSync(path.join(dir, 'bin', name), `#!/bin/bash\n${body}\n`);
      chmodSync(path.join(dir, 'bin', name), 0o755);
    };
    // cqlsh: the role and password come from the cqlshrc it is given; the cluster's roles are files.
    stub(
      'cqlsh',
      [
        `printf '%s\\n' "$*" >> '${dir}/argv.log'`,
        'rc=""; for a in "$@"; do case $a in --cqlshrc=*) rc=${a#--cqlshrc=} ;; esac; done',
        `stat -c %a "$rc" >> '${dir}/modes.log'`,
        `user=$(sed -n 's/^username = //p' "$rc"); pass=$(sed -n 's/^password = //p' "$rc")`,
        `in=$(cat); printf -- '--- %s\\n%s\\n' "$user" "$in" >> '${dir}/stdin.log'`,
        `[ -e '${state('up')}' ] || { echo 'Connection error: refused' >&2; exit 1; }`,
        'case $user in',
        `  cassandra) [ "$pass" = cassandra ] && [ ! -e '${state('default-disabled')}' ] || { echo 'AuthenticationFailed' >&2; exit 2; } ;;`,
        `  *) [ -e '${state('admin')}' ] && [ "$user" = "$(head -n1 '${state('admin')}')" ] && [ "$pass" = "$(tail -n1 '${state('admin')}')" ] || { echo 'AuthenticationFailed' >&2; exit 2; } ;;`,
        'esac',
        `case $in in *'CREATE ROLE IF NOT EXISTS '*) printf '%s\\n%s\\n' "$(sed -n 's/.*CREATE ROLE IF NOT EXISTS \\([a-z_]*\\) .*/\\1/p' <<< "$in")" "$(sed -n "s/.*PASSWORD = '\\([^']*\\)'.*/\\1/p" <<< "$in")" > '${state('admin')}' ;; esac`,
        // cqlsh's own answer to a SELECT: the rows, then a count line.
        `case $in in *"FROM system_auth.roles WHERE role = 'cassandra'"*) if [ -e '${state('no-default')}' ]; then printf '\\n role\\n------\\n\\n(0 rows)\\n'; else printf '\\n role\\n-----------\\n cassandra\\n\\n(1 rows)\\n'; fi ;; esac`,
        `case $in in *'ALTER ROLE cassandra '*) [ ! -e '${state('no-default')}' ] || { echo "InvalidRequest: Error from server: code=2200 [Invalid query] message=\\"cassandra doesn't exist\\"" >&2; exit 2; } ;; esac`,
        `case $in in *'ALTER ROLE cassandra WITH SUPERUSER = false AND LOGIN = false;'*) touch '${state('default-disabled')}' ;; esac`,
        'exit 0',
      ].join('\n'),
    );
    stub('nodetool', `printf '%s\\n' "$*" >> '${dir}/nodetool.log'`);
    stub('logger', `printf '%s\\n' "$*" >> '${dir}/logger.log'`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('on a new cluster: replicates system_auth, creates the admin role, then disables the default role; no password on a command line', () => {
    writeFileSync(state('up'), '');
    const r = run();
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(readFileSync(state('admin'), 'utf8')).toBe(`${CASSANDRA_ADMIN_ROLE}\n${password}\n`);
    expect(existsSync(state('default-disabled'))).toBe(true);
    const stdin = read('stdin.log');
    expect(stdin).toContain(`ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', '${model.cassandra!.datacenter}': 3};`);
    // The default role creates the admin role; the admin role disables the default one.
    expect(stdin).toMatch(new RegExp(`--- cassandra\\nALTER KEYSPACE[^\\n]*\\nCREATE ROLE IF NOT EXISTS ${CASSANDRA_ADMIN_ROLE} WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = '${password}';`));
    expect(stdin).toContain(`--- ${CASSANDRA_ADMIN_ROLE}\nALTER ROLE cassandra WITH SUPERUSER = false AND LOGIN = false;`);
    expect(read('nodetool.log')).toBe('repair --full system_auth\n');
    expect(read('argv.log')).not.toContain(password);
    expect(read('argv.log')).toMatch(new RegExp(`--connect-timeout=10 ${node.managementAddress} 9042$`, 'm'));
    expect(new Set(read('modes.log').trim().split('\n'))).toEqual(new Set(['600']));
    // The cqlshrc files went with their directory.
    expect(readdirSync(path.join(dir, 'run'))).toEqual([]);
    expect(read('logger.log')).toContain(`admin role ${CASSANDRA_ADMIN_ROLE} in place`);
  });

  it('on a cluster another member already set up: only makes sure the default role stays disabled', () => {
    writeFileSync(state('up'), '');
    writeFileSync(state('admin'), `${CASSANDRA_ADMIN_ROLE}\n${password}\n`);
    writeFileSync(state('default-disabled'), '');
    const r = run();
    expect(r.status).toBe(0);
    expect(read('stdin.log')).not.toContain('CREATE ROLE');
    expect(read('stdin.log')).not.toContain('ALTER KEYSPACE');
    expect(read('nodetool.log')).toBe('');
  });

  it('gives up after its bounded attempts when Cassandra never answers, and says the default role may still be enabled', () => {
    const r = run({ CASSANDRA_AUTH_ATTEMPTS: '3' });
    expect(r.status).toBe(1);
    // Each attempt tries the admin role, then the default one.
    expect(read('argv.log').trim().split('\n')).toHaveLength(6);
    expect(read('logger.log')).toMatch(/daemon\.err .*in 3 attempts; the default role may still be enabled/);
    expect(readdirSync(path.join(dir, 'run'))).toEqual([]);
  });

  it('on a cluster whose default role an operator dropped: says so and succeeds at once, without retrying an ALTER ROLE that must fail', () => {
    writeFileSync(state('up'), '');
    writeFileSync(state('admin'), `${CASSANDRA_ADMIN_ROLE}\n${password}\n`);
    writeFileSync(state('no-default'), '');
    const r = run();
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(read('stdin.log')).not.toContain('ALTER ROLE cassandra');
    expect(read('logger.log')).toContain('the cluster has no default role cassandra');
  });
});
