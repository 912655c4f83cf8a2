import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../stacks/project-root';

/**
 * The commit a measurement ran on, with `-dirty` when tracked files differ
 * from it: a committed figure says which code it measured (bench and e2e).
 */
export function measuredCommit(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return `${git('rev-parse', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '-dirty' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
