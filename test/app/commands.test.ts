import { describe, expect, it } from 'vitest';
import { MAX_SCANNED_CHARS } from '../../src/commands/parse.js';
import { fingerprintMarker } from '../../src/findings/fingerprint.js';
import {
  COMMENT_BODY_MAX_CHARS,
  renderCommandHint,
  renderExplainReply,
  renderHelpReply,
  renderRecheckClosed,
  renderRecheckRefusal,
  renderRuleDoc,
  renderUnknownRuleReply,
  ruleDocsUrl,
} from '../../src/findings/render.js';
import { RULES, suggestRules } from '../../src/rules/registry.js';
import { SKILL_GUIDES } from '../../src/rules/skills.js';
import { APP_ID, useProbotHarness, type GitHubMock } from '../helpers/probot.js';
import {
  AFTER,
  BLOCKING_SLEEP,
  changedFile,
  CHECK_RUN_URL,
  checkRunPath,
  configCalls,
  createCheckRunBody,
  DANGLING_TASK,
  filesOf,
  githubPatch,
  HEAD_SHA,
  INSTALLATION_ID,
  mockBotThreads,
  mockCreateCheckRun,
  mockCreateReview,
  mockListFiles,
  mockReadBlobs,
  mockReadConfig,
  mockUpdateCheckRun,
  OWNER,
  PR_NUMBER,
  PY_PATH,
  REPO,
  REPO_PATH,
  reviewsOf,
  ruleByAlias,
  webhookExample,
  type ReviewBody,
} from './support.js';

// ---------------------------------------------------------------------------------------------
// Real payloads, adapted.

interface Author {
  login: string;
  type: 'User' | 'Bot';
}

const HUMAN: Author = { login: 'Codertocat', type: 'User' };
const OUR_BOT: Author = { login: 'asyncguard[bot]', type: 'Bot' };

interface CommentOptions {
  author?: Author;
  association?: string;
  /** pull_request_review_comment only: the thread's top comment this one replies to. */
  inReplyTo?: number;
  performedViaApp?: boolean;
}

function withAuthor(payload: any, options: CommentOptions): any {
  const author = options.author ?? HUMAN;
  payload.comment.user = { ...payload.comment.user, login: author.login, type: author.type };
  payload.sender = { ...payload.sender, login: author.login, type: author.type };
  payload.comment.author_association = options.association ?? 'OWNER';
  if (options.performedViaApp) payload.comment.performed_via_github_app = { id: APP_ID, slug: 'asyncguard', name: 'asyncguard' };
  return payload;
}

/** The real issue_comment.created example (a comment on issue #1), made a comment on PR #2. */
function prComment(body: string, options: CommentOptions = {}): any {
  const payload = webhookExample('issue_comment', 'created');
  payload.issue.number = PR_NUMBER;
  payload.issue.html_url = `https://github.com/${OWNER}/${REPO}/pull/${PR_NUMBER}`;
  payload.issue.pull_request = {
    url: `https://api.github.com${REPO_PATH}/pulls/${PR_NUMBER}`,
    html_url: `https://github.com/${OWNER}/${REPO}/pull/${PR_NUMBER}`,
    diff_url: `https://github.com/${OWNER}/${REPO}/pull/${PR_NUMBER}.diff`,
    patch_url: `https://github.com/${OWNER}/${REPO}/pull/${PR_NUMBER}.patch`,
    merged_at: null,
  };
  payload.comment.body = body;
  return withAuthor(payload, options);
}

/** The real pull_request_review_comment.created example (on PR #2), with this body. */
function reviewComment(body: string, options: CommentOptions = {}): any {
  const payload = webhookExample('pull_request_review_comment', 'created');
  payload.comment.body = body;
  if (options.inReplyTo !== undefined) payload.comment.in_reply_to_id = options.inReplyTo;
  return withAuthor(payload, options);
}

const ISSUE_COMMENT_ID = 492700400;
const REVIEW_COMMENT_ID = 284312630;
const THREAD_TOP_ID = 284312000;

const conversationReplies = `${REPO_PATH}/issues/${PR_NUMBER}/comments`;
const threadReplies = (top: number) => `${REPO_PATH}/pulls/${PR_NUMBER}/comments/${top}/replies`;
const reviewCommentPath = (id: number) => `${REPO_PATH}/pulls/comments/${id}`;
const pullPath = `${REPO_PATH}/pulls/${PR_NUMBER}`;

function mockConversationReply(h: { github: GitHubMock }): void {
  h.github.post(conversationReplies, { status: 201, body: { id: 1 } });
}

/** A comment asyncguard posted in a review: a finding of `alias`, with its marker. */
function botThreadTop(alias: string, author: Author = OUR_BOT) {
  const rule = ruleByAlias(alias);
  const payload = webhookExample('pull_request_review_comment', 'created');
  return {
    ...payload.comment,
    id: THREAD_TOP_ID,
    user: { ...payload.comment.user, login: author.login, type: author.type },
    body: `**🛑 error · ${rule.meta.id} ${rule.meta.slug}**: ${rule.meta.title}\n\nReply \`/asyncguard explain\` for the full explanation.\n${fingerprintMarker('0123456789abcdef', rule.meta.id)}`,
  };
}

const sleepRule = ruleByAlias(BLOCKING_SLEEP);

describe('/asyncguard explain', () => {
  const h = useProbotHarness();

  it.each([
    ['by id', `/asyncguard explain ${sleepRule.meta.id}`],
    ['by alias, lower case', `/asyncguard explain ${BLOCKING_SLEEP.toLowerCase()}`],
    ['by slug, command in upper case', `/ASYNCGUARD EXPLAIN ${sleepRule.meta.slug.toUpperCase()}`],
  ])('%s: replies on the conversation with the rule doc (the markdown of the CLI explain)', async (_name, body) => {
    h.github.installationToken(INSTALLATION_ID);
    mockConversationReply(h);

    await h.deliver('issue_comment', prComment(`Thanks!\n\n${body}\n`));

    expect(h.github.calls()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`, `POST ${conversationReplies}`]);
    const [reply] = h.github.bodies('POST', conversationReplies) as { body: string }[];
    expect(reply).toEqual({ body: renderRuleDoc(sleepRule, 'markdown') });
    // What, why, example, fix and the cited skill sections with their links.
    for (const text of [sleepRule.meta.docs.what, sleepRule.meta.docs.why, sleepRule.meta.docs.example.trim(), sleepRule.meta.docs.useInstead.trim()]) {
      expect(reply!.body).toContain(text);
    }
    for (const { guide, section } of sleepRule.meta.cites) {
      expect(reply!.body).toContain(`${SKILL_GUIDES[guide].name}: ${section}`);
      if (SKILL_GUIDES[guide].url) expect(reply!.body).toContain(`(${SKILL_GUIDES[guide].url})`);
    }
  });

  it('with no rule, replying in a thread asyncguard started: reads the top comment and explains its rule in the thread', async () => {
    const taskRule = ruleByAlias(DANGLING_TASK);
    h.github.installationToken(INSTALLATION_ID);
    h.github.get(reviewCommentPath(THREAD_TOP_ID), { body: botThreadTop(DANGLING_TASK) });
    h.github.post(threadReplies(THREAD_TOP_ID), { status: 201, body: { id: 2 } });

    await h.deliver('pull_request_review_comment', reviewComment('/asyncguard explain', { inReplyTo: THREAD_TOP_ID }));

    expect(h.github.calls()).toEqual([
      `POST /app/installations/${INSTALLATION_ID}/access_tokens`,
      `GET ${reviewCommentPath(THREAD_TOP_ID)}`,
      `POST ${threadReplies(THREAD_TOP_ID)}`,
    ]);
    expect(h.github.bodies('POST', threadReplies(THREAD_TOP_ID))).toEqual([{ body: renderExplainReply(taskRule) }]);
    expect(renderExplainReply(taskRule)).toBe(renderRuleDoc(taskRule, 'markdown'));
  });

  it('with no rule, in a thread a person started: the usage hint, in the thread', async () => {
    h.github.installationToken(INSTALLATION_ID);
    // A person's comment that even quotes asyncguard's marker is not asyncguard's thread.
    h.github.get(reviewCommentPath(THREAD_TOP_ID), { body: botThreadTop(DANGLING_TASK, HUMAN) });
    h.github.post(threadReplies(THREAD_TOP_ID), { status: 201, body: { id: 2 } });

    await h.deliver('pull_request_review_comment', reviewComment('/asyncguard explain', { inReplyTo: THREAD_TOP_ID }));

    expect(h.github.bodies('POST', threadReplies(THREAD_TOP_ID))).toEqual([{ body: renderCommandHint(RULES) }]);
  });

  it('with no rule, on the conversation: the usage hint, without reading any thread', async () => {
    h.github.installationToken(INSTALLATION_ID);
    mockConversationReply(h);

    await h.deliver('issue_comment', prComment('/asyncguard explain'));

    expect(h.github.calls()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`, `POST ${conversationReplies}`]);
    const [reply] = h.github.bodies('POST', conversationReplies) as { body: string }[];
    expect(reply).toEqual({ body: renderCommandHint(RULES) });
    expect(reply!.body).toContain('`/asyncguard explain RULE`');
  });

  it('with no rule, as a new review comment (not a reply): the usage hint in the thread it starts', async () => {
    h.github.installationToken(INSTALLATION_ID);
    h.github.post(threadReplies(REVIEW_COMMENT_ID), { status: 201, body: { id: 2 } });

    await h.deliver('pull_request_review_comment', reviewComment('/asyncguard explain'));

    expect(h.github.calls()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`, `POST ${threadReplies(REVIEW_COMMENT_ID)}`]);
    expect(h.github.bodies('POST', threadReplies(REVIEW_COMMENT_ID))).toEqual([{ body: renderCommandHint(RULES) }]);
  });

  it('a named rule in a thread reply: explained in the thread, no thread read', async () => {
    h.github.installationToken(INSTALLATION_ID);
    h.github.post(threadReplies(THREAD_TOP_ID), { status: 201, body: { id: 2 } });

    await h.deliver('pull_request_review_comment', reviewComment(`/asyncguard explain ${BLOCKING_SLEEP}`, { inReplyTo: THREAD_TOP_ID }));

    expect(h.github.calls()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`, `POST ${threadReplies(THREAD_TOP_ID)}`]);
    expect(h.github.bodies('POST', threadReplies(THREAD_TOP_ID))).toEqual([{ body: renderRuleDoc(sleepRule, 'markdown') }]);
  });

  it('an unknown rule: the closest matches, linked', async () => {
    h.github.installationToken(INSTALLATION_ID);
    mockConversationReply(h);

    await h.deliver('issue_comment', prComment('/asyncguard explain blocking-slep'));

    const [reply] = h.github.bodies('POST', conversationReplies) as { body: string }[];
    const closest = suggestRules('blocking-slep');
    expect(closest[0]).toBe(sleepRule);
    expect(reply).toEqual({ body: renderUnknownRuleReply('blocking-slep', closest) });
    expect(reply!.body.split('\n')[0]).toBe('asyncguard has no rule `blocking-slep`.');
    expect(reply!.body).toContain(`- [${sleepRule.meta.id} ${sleepRule.meta.slug}](${ruleDocsUrl(sleepRule)})`);
  });
});

describe('/asyncguard help and unknown commands', () => {
  const h = useProbotHarness();

  it('help: the commands and every rule, within the comment size limit', async () => {
    h.github.installationToken(INSTALLATION_ID);
    mockConversationReply(h);

    await h.deliver('issue_comment', prComment('/asyncguard help'));

    const [reply] = h.github.bodies('POST', conversationReplies) as { body: string }[];
    expect(reply).toEqual({ body: renderHelpReply(RULES) });
    expect(reply!.body.length).toBeLessThanOrEqual(COMMENT_BODY_MAX_CHARS);
    for (const command of ['/asyncguard explain RULE', '/asyncguard explain`', '/asyncguard recheck', '/asyncguard help']) expect(reply!.body).toContain(command);
    for (const rule of RULES) expect(reply!.body).toContain(`| ${rule.meta.id} | [${rule.meta.slug}](${ruleDocsUrl(rule)}) |`);
  });

  it('an unknown sub-command: the help hint naming it', async () => {
    h.github.installationToken(INSTALLATION_ID);
    mockConversationReply(h);

    await h.deliver('issue_comment', prComment('/asyncguard fix-everything'));

    const [reply] = h.github.bodies('POST', conversationReplies) as { body: string }[];
    expect(reply).toEqual({ body: renderCommandHint(RULES, { command: 'fix-everything' }) });
    expect(reply!.body.split('\n')[0]).toBe('asyncguard has no command `fix-everything`.');
  });

  it('two commands in one comment: one reply, to the first', async () => {
    h.github.installationToken(INSTALLATION_ID);
    mockConversationReply(h);

    await h.deliver('issue_comment', prComment(`/asyncguard explain ${BLOCKING_SLEEP}\n/asyncguard help\n/asyncguard recheck`));

    expect(h.github.calls()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`, `POST ${conversationReplies}`]);
    expect(h.github.bodies('POST', conversationReplies)).toEqual([{ body: renderRuleDoc(sleepRule, 'markdown') }]);
  });
});

describe('/asyncguard recheck', () => {
  const h = useProbotHarness();

  /** The review a re-run makes (a fresh check run, no lookup), as in rerequested.test.ts. */
  function mockReview(): void {
    mockCreateCheckRun(h.github, HEAD_SHA);
    mockReadConfig(h.github);
    mockListFiles(h.github, [changedFile(PY_PATH, 'modified', githubPatch('after.patch'))]);
    mockReadBlobs(h.github, [AFTER]);
    mockBotThreads(h.github, []);
    mockCreateReview(h.github);
    mockUpdateCheckRun(h.github, HEAD_SHA);
  }

  const reviewCalls = [
    `POST ${REPO_PATH}/check-runs`,
    ...configCalls(),
    `GET ${filesOf()}`,
    'POST /graphql',
    'POST /graphql',
    `POST ${reviewsOf()}`,
    `PATCH ${checkRunPath()}`,
  ];

  it.each(['OWNER', 'MEMBER', 'COLLABORATOR'])('by %s on the conversation: an eyes reaction, then the head is reviewed again', async (association) => {
    const reactions = `${REPO_PATH}/issues/comments/${ISSUE_COMMENT_ID}/reactions`;
    h.github.installationToken(INSTALLATION_ID);
    h.github.get(pullPath, { body: webhookExample('pull_request', 'opened').pull_request });
    h.github.post(reactions, { status: 201, body: { id: 1, content: 'eyes' } });
    mockReview();

    await h.deliver('issue_comment', prComment('/asyncguard recheck', { association }));

    expect(h.github.calls()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`, `GET ${pullPath}`, `POST ${reactions}`, ...reviewCalls]);
    expect(h.github.bodies('POST', reactions)).toEqual([{ content: 'eyes' }]);
    expect(h.github.bodies('POST', `${REPO_PATH}/check-runs`)).toEqual([createCheckRunBody(HEAD_SHA)]);
    const reviews = h.github.bodies('POST', reviewsOf()) as ReviewBody[];
    expect(reviews).toHaveLength(1);
    expect(reviews[0]!.body).toBe(
      `asyncguard found 6 asyncio problems in the functions this push touched; 3 are commented inline. 3 more are listed in the check run. ([check run](${CHECK_RUN_URL}))`,
    );
  });

  it('by a collaborator in a review thread: the reaction goes on the review comment', async () => {
    const reactions = `${REPO_PATH}/pulls/comments/${REVIEW_COMMENT_ID}/reactions`;
    h.github.installationToken(INSTALLATION_ID);
    h.github.get(pullPath, { body: webhookExample('pull_request', 'opened').pull_request });
    h.github.post(reactions, { status: 201, body: { id: 1, content: 'eyes' } });
    mockReview();

    await h.deliver('pull_request_review_comment', reviewComment('/asyncguard recheck', { association: 'COLLABORATOR', inReplyTo: THREAD_TOP_ID }));

    expect(h.github.calls()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`, `GET ${pullPath}`, `POST ${reactions}`, ...reviewCalls]);
    expect(h.github.bodies('POST', reactions)).toEqual([{ content: 'eyes' }]);
  });

  it.each(['CONTRIBUTOR', 'FIRST_TIME_CONTRIBUTOR', 'NONE'])('by %s: a polite refusal, no review', async (association) => {
    h.github.installationToken(INSTALLATION_ID);
    mockConversationReply(h);

    await h.deliver('issue_comment', prComment('/asyncguard recheck', { association }));

    expect(h.github.calls()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`, `POST ${conversationReplies}`]);
    expect(h.github.bodies('POST', conversationReplies)).toEqual([{ body: renderRecheckRefusal() }]);
  });

  it('on a closed pull request: says so, no review', async () => {
    h.github.installationToken(INSTALLATION_ID);
    h.github.get(pullPath, { body: { ...webhookExample('pull_request', 'opened').pull_request, state: 'closed' } });
    mockConversationReply(h);

    await h.deliver('issue_comment', prComment('/asyncguard recheck', { association: 'MEMBER' }));

    expect(h.github.calls()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`, `GET ${pullPath}`, `POST ${conversationReplies}`]);
    expect(h.github.bodies('POST', conversationReplies)).toEqual([{ body: renderRecheckClosed() }]);
  });
});

describe('comments that are not commands', () => {
  const h = useProbotHarness();

  it.each([
    ['asyncguard itself (Bot, via the app)', prComment('/asyncguard help', { author: OUR_BOT, performedViaApp: true })],
    ['another bot', prComment('/asyncguard help', { author: { login: 'dependabot[bot]', type: 'Bot' } })],
    ['a comment made through a GitHub App on a user account', prComment('/asyncguard help', { performedViaApp: true })],
  ])('a conversation comment by %s: no request at all', async (_name, payload) => {
    await h.deliver('issue_comment', payload);
    expect(h.github.requests).toEqual([]);
  });

  it('a review comment by a bot: no request at all', async () => {
    await h.deliver('pull_request_review_comment', reviewComment('/asyncguard explain', { author: OUR_BOT, inReplyTo: THREAD_TOP_ID }));
    expect(h.github.requests).toEqual([]);
  });

  it('a comment on a plain issue (the real example, issue #1): ignored', async () => {
    const payload = withAuthor(webhookExample('issue_comment', 'created'), {});
    payload.comment.body = '/asyncguard help';
    expect(payload.issue.pull_request).toBeUndefined();

    await h.deliver('issue_comment', payload);

    expect(h.github.requests).toEqual([]);
  });

  it('an edited or deleted comment: ignored (only `created` is a command)', async () => {
    for (const action of ['edited', 'deleted']) {
      const payload = prComment('/asyncguard help');
      payload.action = action;
      await h.deliver('issue_comment', payload);
      const review = reviewComment('/asyncguard help');
      review.action = action;
      await h.deliver('pull_request_review_comment', review);
    }
    expect(h.github.requests).toEqual([]);
  });

  it.each([
    ['in the middle of a sentence', 'Could someone run /asyncguard help on this?'],
    ['inside a fenced code block', 'Usage:\n```\n/asyncguard help\n```'],
    ['inside a quote', '> /asyncguard help\n\nThat did not work for me.'],
    ['glued to another word', '/asyncguardhelp'],
  ])('a command %s: ignored', async (_name, body) => {
    await h.deliver('issue_comment', prComment(body));
    expect(h.github.requests).toEqual([]);
  });
});

describe('hostile and huge comments', () => {
  const h = useProbotHarness();

  it.each([
    ['a team mention', '/asyncguard explain @org/team', '@org'],
    ['an HTML image', '/asyncguard explain <img src=x onerror=alert(1)>', '<img'],
    ['a markdown link', '/asyncguard explain [release](https://evil.example/x)', 'evil.example'],
    ['an HTML link with a mention', '/asyncguard explain <a/href="https://evil.example">@org</a>', '<a'],
    ['backticks and emphasis', '/asyncguard explain ``**@org**``', '@org'],
    ['a mention as the sub-command', '/asyncguard @org/team', '@org'],
  ])('%s: the reply echoes nothing of it', async (_name, body, forbidden) => {
    h.github.installationToken(INSTALLATION_ID);
    mockConversationReply(h);

    await h.deliver('issue_comment', prComment(body));

    const [reply] = h.github.bodies('POST', conversationReplies) as { body: string }[];
    expect(reply!.body).not.toContain(forbidden);
    for (const raw of ['@org', '<img', '<a', 'evil.example', '**@']) expect(reply!.body).not.toContain(raw);
    expect(reply!.body.split('\n')[0]).toMatch(/^asyncguard has no (rule by that name|such command)\.$/);
  });

  it('a 100 KB comment starting with a command: answered, from a bounded prefix', async () => {
    h.github.installationToken(INSTALLATION_ID);
    mockConversationReply(h);
    const body = `/asyncguard explain ${BLOCKING_SLEEP}\n${'Some very long log output, pasted whole. '.repeat(2_600)}`;
    expect(body.length).toBeGreaterThan(100_000);

    const started = performance.now();
    await h.deliver('issue_comment', prComment(body));
    expect(performance.now() - started).toBeLessThan(2_000);

    expect(h.github.bodies('POST', conversationReplies)).toEqual([{ body: renderRuleDoc(sleepRule, 'markdown') }]);
  });

  it('a 5,000-character rule name: an unknown-rule reply carrying at most a bounded slice of it', async () => {
    h.github.installationToken(INSTALLATION_ID);
    mockConversationReply(h);

    await h.deliver('issue_comment', prComment(`/asyncguard explain ${'a'.repeat(5_000)}\nthanks`));

    const [reply] = h.github.bodies('POST', conversationReplies) as { body: string }[];
    expect(reply!.body).not.toContain('a'.repeat(65));
    expect(reply!.body.length).toBeLessThan(2_000);
  });

  it('a 100 KB one-line command (cut by the scanned prefix): ignored, by design', async () => {
    await h.deliver('issue_comment', prComment(`/asyncguard explain ${'a'.repeat(100_000)}`));
    expect(h.github.requests).toEqual([]);
  });

  it('a command past the scanned prefix of a 100 KB comment: ignored, by design', async () => {
    const body = `${'A long description that goes on and on.\n'.repeat(2_500)}/asyncguard help`;
    expect(body.indexOf('/asyncguard')).toBeGreaterThan(MAX_SCANNED_CHARS);

    await h.deliver('issue_comment', prComment(body));

    expect(h.github.requests).toEqual([]);
  });
});
