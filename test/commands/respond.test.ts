import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/commands/parse.js';
import { respond, type CommandPort, type ThreadTopComment } from '../../src/commands/respond.js';
import { fingerprintMarker } from '../../src/findings/fingerprint.js';
import {
  COMMENT_BODY_MAX_CHARS,
  escapeMarkdown,
  inlineCode,
  renderCommandHint,
  renderExplainReply,
  renderHelpReply,
  renderRecheckRefusal,
  renderRuleDoc,
  renderUnknownRuleReply,
} from '../../src/findings/render.js';
import type { PullRequestRef } from '../../src/pipeline/ports.js';
import { findRule, RULES, suggestRules } from '../../src/rules/registry.js';

const PR: PullRequestRef = { owner: 'o', repo: 'r', number: 7, headSha: 'h'.repeat(40), baseSha: 'b'.repeat(40) };

function fakePort(options: { top?: ThreadTopComment | null; open?: boolean; reactionFails?: boolean } = {}) {
  const calls: string[] = [];
  const replies: string[] = [];
  const port: CommandPort = {
    async reply(body) {
      calls.push('reply');
      replies.push(body);
    },
    async acknowledge() {
      calls.push('acknowledge');
      if (options.reactionFails) throw new Error('403');
    },
    async threadTop() {
      calls.push('threadTop');
      return options.top ?? null;
    },
    async pullRequest() {
      calls.push('pullRequest');
      return { ref: PR, open: options.open ?? true };
    },
  };
  return { port, calls, replies };
}

async function run(command: Command, association = 'OWNER', options: Parameters<typeof fakePort>[0] = {}) {
  const fake = fakePort(options);
  const rechecked: PullRequestRef[] = [];
  const outcome = await respond({ command, association }, fake.port, (pr) => rechecked.push(pr));
  return { ...fake, outcome, rechecked };
}

const sleep = findRule('blocking-sleep')!;

describe('respond', () => {
  it('explains a named rule with the CLI explain document, in markdown', async () => {
    const { replies, outcome, calls } = await run({ kind: 'explain', rule: 'asYNC251' });
    expect(outcome).toBe('explained');
    expect(calls).toEqual(['reply']);
    expect(replies).toEqual([renderRuleDoc(sleep, 'markdown')]);
  });

  it('explains the rule of a bot thread when none is named', async () => {
    const top = { body: `finding\n${fingerprintMarker('0123456789abcdef', 'AG101')}`, authorType: 'Bot' };
    const { replies, outcome } = await run({ kind: 'explain', rule: null }, 'NONE', { top });
    expect(outcome).toBe('explained-thread-rule');
    expect(replies).toEqual([renderExplainReply(findRule('AG101')!)]);
  });

  it.each([
    ['no thread', null],
    ['a person started the thread', { body: fingerprintMarker('0123456789abcdef', 'AG101'), authorType: 'User' }],
    ['a bot comment without a marker', { body: 'LGTM', authorType: 'Bot' }],
    ['an old marker without a rule', { body: '<!-- asyncguard:fp=0123456789abcdef -->', authorType: 'Bot' }],
    ['a marker naming a rule this version lacks', { body: fingerprintMarker('0123456789abcdef', 'AG999'), authorType: 'Bot' }],
  ])('answers a bare explain with the usage hint: %s', async (_name, top) => {
    const { replies, outcome } = await run({ kind: 'explain', rule: null }, 'OWNER', { top });
    expect(outcome).toBe('usage-hint');
    expect(replies).toEqual([renderCommandHint(RULES)]);
  });

  it('answers an unknown rule with the closest matches', async () => {
    const { replies, outcome } = await run({ kind: 'explain', rule: 'blockingsleep' });
    expect(outcome).toBe('unknown-rule');
    expect(replies).toEqual([renderUnknownRuleReply('blockingsleep', suggestRules('blockingsleep'))]);
    expect(replies[0]).toContain('[AG101 blocking-sleep]');
  });

  it('answers help and unknown sub-commands', async () => {
    expect((await run({ kind: 'help' })).replies).toEqual([renderHelpReply(RULES)]);
    expect((await run({ kind: 'unknown', name: 'fix' })).replies).toEqual([renderCommandHint(RULES, { command: 'fix' })]);
  });

  it.each(['OWNER', 'MEMBER', 'COLLABORATOR'])('rechecks for %s: reacts, then queues the head', async (association) => {
    const { calls, rechecked, outcome, replies } = await run({ kind: 'recheck' }, association);
    expect(outcome).toBe('recheck-queued');
    expect(calls).toEqual(['pullRequest', 'acknowledge']);
    expect(rechecked).toEqual([PR]);
    expect(replies).toEqual([]);
  });

  it.each(['CONTRIBUTOR', 'FIRST_TIMER', 'FIRST_TIME_CONTRIBUTOR', 'MANNEQUIN', 'NONE', ''])('refuses a recheck by %j without reading the PR', async (association) => {
    const { calls, rechecked, replies } = await run({ kind: 'recheck' }, association);
    expect(calls).toEqual(['reply']);
    expect(replies).toEqual([renderRecheckRefusal()]);
    expect(rechecked).toEqual([]);
  });

  it('does not recheck a closed pull request', async () => {
    const { rechecked, outcome } = await run({ kind: 'recheck' }, 'OWNER', { open: false });
    expect(outcome).toBe('recheck-closed');
    expect(rechecked).toEqual([]);
  });

  it('still queues the review when the reaction is refused, and reports the error', async () => {
    const fake = fakePort({ reactionFails: true });
    const rechecked: PullRequestRef[] = [];
    await expect(respond({ command: { kind: 'recheck' }, association: 'OWNER' }, fake.port, (pr) => rechecked.push(pr))).rejects.toThrow('403');
    expect(rechecked).toEqual([PR]);
  });
});

describe('command replies', () => {
  it('fit in a comment body', () => {
    const many = Array.from({ length: 400 }, () => RULES).flat();
    expect(renderHelpReply(RULES).length).toBeLessThan(COMMENT_BODY_MAX_CHARS);
    expect(renderHelpReply(many).length).toBeLessThanOrEqual(COMMENT_BODY_MAX_CHARS);
    for (const rule of RULES) expect(renderExplainReply(rule).length).toBeLessThanOrEqual(COMMENT_BODY_MAX_CHARS);
  });

  it('name user text back only when it is a plain name, as inline code', () => {
    expect(renderUnknownRuleReply('ASYNC-9', []).split('\n')[0]).toBe('asyncguard has no rule `ASYNC-9`.');
    for (const hostile of ['@org/team', '<img', '[x](https://e.example)', '**x**', '`x`', 'a'.repeat(65)]) {
      expect(renderUnknownRuleReply(hostile, suggestRules(hostile)).split('\n')[0]).toBe('asyncguard has no rule by that name.');
      expect(renderCommandHint(RULES, { command: hostile }).split('\n')[0]).toBe('asyncguard has no such command.');
    }
  });

  it('the renderer helpers neutralise mentions: escaped with a zero-width space, or inside a code span', () => {
    expect(escapeMarkdown('@org/team <img src=x>')).toBe('@\u200borg/team \\<img src=x\\>');
    expect(escapeMarkdown('@org')).not.toContain('@org');
    // GitHub neither links mentions nor renders HTML inside code spans; backticks in the text
    // get a longer fence, so the span cannot be closed early.
    expect(inlineCode('@org/team')).toBe('`@org/team`');
    expect(inlineCode('a`b')).toBe('``a`b``');
    expect(inlineCode('`@org`')).toBe('`` `@org` ``');
  });
});
