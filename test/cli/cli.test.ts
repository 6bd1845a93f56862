import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const PEERS = fileURLToPath(new URL('../../../shared/peer-suites/ruff-flake8-async/', import.meta.url));

async function cli(args: string[], cwd = process.cwd()) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tempDir(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ag-cli-'));
  made.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

const BLOCKING = `import asyncio
import time


async def poll(client):
    while not client.ready():
        time.sleep(0.5)
    return await client.result()


def sync_wait():
    time.sleep(0.5)
`;

describe('asyncguard check', () => {
  it('reports time.sleep in async def with file:line:col, the fix and the skill citation; exit 1', async () => {
    const dir = tempDir({ 'poll.py': BLOCKING });
    const { code, stdout } = await cli(['check', 'poll.py'], dir);
    expect(code).toBe(1);
    expect(stdout).toContain('poll.py:7:9: AG101 [error]');
    expect(stdout).toContain('(blocking-sleep)');
    expect(stdout).toMatch(/see: async-python-patterns \(decision framework\): Step 5/);
    expect(stdout).not.toContain('poll.py:12'); // the sync function may sleep
    expect(stdout).toContain('Found 1 problem in 1 file.');
  });

  it('takes an absolute path outside the working folder', async () => {
    const dir = tempDir({ 'poll.py': BLOCKING });
    const elsewhere = tempDir({});
    const { code, stdout, stderr } = await cli(['check', join(dir, 'poll.py')], elsewhere);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(stdout).toMatch(/poll\.py:7:9: AG101 \[error\]/);
  });

  it('prints JSON records with exactly the documented fields', async () => {
    const dir = tempDir({ 'poll.py': BLOCKING });
    const { code, stdout } = await cli(['check', '--format', 'json', '.'], dir);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual([
      {
        path: 'poll.py',
        line: 7,
        column: 9,
        endLine: 7,
        endColumn: 24,
        ruleId: 'AG101',
        slug: 'blocking-sleep',
        aliases: ['ASYNC251', 'S7488'],
        severity: 'error',
        message: expect.stringContaining('time.sleep'),
      },
    ]);
  });

  it("finds the blocking sleep of Ruff's own ASYNC251 fixture, and the coroutine it never awaits", async () => {
    const { stdout } = await cli(['check', '--format', 'json', 'ASYNC251.py'], PEERS);
    const found = JSON.parse(stdout).map((f: { line: number; ruleId: string }) => `${f.line}:${f.ruleId}`);
    // Ruff marks line 14 (`asyncio.sleep(1)` without await) "OK" for ASYNC251; it is a missing await.
    expect(found).toEqual(['6:AG101', '14:AG201']);
  });

  it('exits 0 with no findings, and on warnings only', async () => {
    const clean = tempDir({ 'ok.py': 'import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n' });
    expect((await cli(['check', '.'], clean)).code).toBe(0);
    const warning = tempDir({ 'w.py': 'async def f(path):\n    with open(path) as fh:\n        return fh.read()\n' });
    const result = await cli(['check', '--format', 'json', 'w.py'], warning);
    expect(JSON.parse(result.stdout).map((f: { severity: string }) => f.severity)).toEqual(['warning']);
    expect(result.code).toBe(0);
  });

  it('still reports the parts of a broken file that parse, without crashing', async () => {
    const broken = `import time

def broken(:
    return ]

async def fine():
    time.sleep(1)
`;
    const dir = tempDir({ 'broken.py': broken });
    const { code, stdout } = await cli(['check', 'broken.py'], dir);
    expect(stdout).toContain('broken.py:7:5: AG101');
    expect(stdout).toMatch(/note: syntax errors at line 3/);
    expect(code).toBe(1);
  });

  it('reads Latin-1 sources with a coding cookie and undecodable bytes without crashing', async () => {
    const latin1 = Buffer.concat([
      Buffer.from('# -*- coding: latin-1 -*-\nimport time\nNAME = "'),
      Buffer.from([0xe9, 0xe8]),
      Buffer.from('"\n\nasync def f():\n    time.sleep(1)\n'),
    ]);
    const dir = tempDir({ 'legacy.py': latin1, 'junk.py': Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]) });
    const { stdout, stderr } = await cli(['check', '--format', 'json', '.'], dir);
    const findings = JSON.parse(stdout);
    expect(findings).toEqual([expect.objectContaining({ path: 'legacy.py', line: 6, ruleId: 'AG101' })]);
    expect(stderr).toBe('asyncguard: junk.py: skipped: contains NUL bytes (binary?); not analysed\n');
  });
});

describe('asyncguard check with configuration', () => {
  const CHARGE = 'from billing.client import charge\n\n\nasync def checkout(order):\n    return charge(order)\n';

  it('--blocking-call flags a team-listed call with its suggestion', async () => {
    const dir = tempDir({ 'shop.py': CHARGE });
    const plain = await cli(['check', 'shop.py'], dir);
    expect(plain.code).toBe(0);
    const { code, stdout } = await cli(['check', '--blocking-call', 'billing.client.charge=use billing.aio.charge', 'shop.py'], dir);
    expect(code).toBe(1);
    expect(stdout).toContain('shop.py:5:12: AG111 [error]');
    expect(stdout).toContain('use billing.aio.charge');
  });

  it('reads .github/asyncguard.yml like the App: rules, exclude, blocking_calls, fail_on, test paths', async () => {
    const dir = tempDir({
      '.github/asyncguard.yml': [
        'rules:',
        '  AG101: warning',
        'exclude: ["vendor/**"]',
        'fail_on: warning',
        'blocking_calls:',
        '  billing.client.charge: use billing.aio.charge',
        '',
      ].join('\n'),
      'poll.py': BLOCKING,
      'shop.py': CHARGE,
      'vendor/old.py': BLOCKING,
      'tests/test_poll.py': BLOCKING,
    });
    const { code, stdout } = await cli(['check', '--format', 'json', '.'], dir);
    expect(code).toBe(1);
    const found = (JSON.parse(stdout) as { path: string; ruleId: string; severity: string }[]).map((f) => `${f.path} ${f.ruleId} ${f.severity}`);
    // vendor/ is excluded; the blocking sleep in a test drops to info.
    expect(found).toEqual(['poll.py AG101 warning', 'shop.py AG111 error', 'tests/test_poll.py AG101 info']);
  });

  it('an invalid configuration is a usage error naming the key and what was expected', async () => {
    const dir = tempDir({ 'poll.py': BLOCKING, 'ag.yml': 'comment_on: everywhere\nrules:\n  AG101: loud\n' });
    const { code, stderr } = await cli(['check', '--config', 'ag.yml', 'poll.py'], dir);
    expect(code).toBe(2);
    expect(stderr).toContain('comment_on: found "everywhere", expected one of added, diff_context, none');
    expect(stderr).toContain('rules.AG101: found "loud", expected one of off, on, info, warning, error');
    const broken = await cli(['check', '--config', 'missing.yml', 'poll.py'], dir);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('cannot read the configuration');
    const bad = await cli(['check', '--blocking-call', 'not a pattern', 'poll.py'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected PATTERN=SUGGESTION');
  });
});

describe('asyncguard review', () => {
  function repo(): { dir: string; git: (...args: string[]) => string } {
    const dir = mkdtempSync(join(tmpdir(), 'ag-review-'));
    made.push(dir);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 't@example.com');
    git('config', 'user.name', 'T');
    writeFileSync(
      join(dir, 'svc.py'),
      `import time


async def old_handler():
    time.sleep(1)


async def new_handler():
    return 1
`,
    );
    git('add', '.');
    git('commit', '-qm', 'base');
    return { dir, git };
  }

  const CHANGED = `import time


async def old_handler():
    time.sleep(1)


async def new_handler():
    time.sleep(2)
    return 1
`;

  it('reports only the functions the working-tree diff touched', async () => {
    const { dir } = repo();
    writeFileSync(join(dir, 'svc.py'), CHANGED);
    const { code, stdout } = await cli(['review', '--base', 'main', '--format', 'json'], dir);
    expect(JSON.parse(stdout).map((f: { line: number; ruleId: string }) => `${f.line}:${f.ruleId}`)).toEqual(['9:AG101']);
    expect(code).toBe(1);
  });

  it('reviews a branch head against its base like a pull request', async () => {
    const { dir, git } = repo();
    git('checkout', '-q', '-b', 'feature');
    writeFileSync(join(dir, 'svc.py'), CHANGED);
    git('commit', '-qam', 'change');
    git('checkout', '-q', 'main');
    const { stdout } = await cli(['review', '--base', 'main', '--head', 'feature', '--format', 'json'], dir);
    expect(JSON.parse(stdout).map((f: { line: number }) => f.line)).toEqual([9]);
  });

  it('explains a bad revision as a usage error', async () => {
    const { dir } = repo();
    const { code, stderr } = await cli(['review', '--base', 'no-such-branch'], dir);
    expect(code).toBe(2);
    expect(stderr).toContain('git merge-base');
  });
});

describe('asyncguard rules and explain', () => {
  it('lists every rule with id, slug and severity', async () => {
    const { code, stdout } = await cli(['rules']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/AG101\s+blocking-sleep\s+error\s+ASYNC251,S7488/);
  });

  it('explains a rule by id, alias or slug with the same text', async () => {
    const byId = await cli(['explain', 'AG101']);
    expect(byId.code).toBe(0);
    expect(byId.stdout).toContain('What it does');
    expect(byId.stdout).toContain('Use instead');
    expect(byId.stdout).toContain('Skill guides');
    expect((await cli(['explain', 'async251'])).stdout).toBe(byId.stdout);
    expect((await cli(['explain', 'blocking-sleep'])).stdout).toBe(byId.stdout);
  });

  it('suggests the closest rules for an unknown one, exit 2', async () => {
    const { code, stderr } = await cli(['explain', 'blocking-slep']);
    expect(code).toBe(2);
    expect(stderr).toContain('did you mean: AG101 blocking-sleep');
  });
});

describe('usage errors exit 2', () => {
  it.each([
    [[]],
    [['frobnicate']],
    [['check']],
    [['check', 'does-not-exist.py']],
    [['check', '--format', 'xml', '.']],
    [['review']],
    [['explain']],
    [['check', '--no-such-flag', '.']],
  ])('%j', async (args) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(/usage|asyncguard:/);
  });
});
