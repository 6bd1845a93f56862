/**
 * What asyncguard does for one `/asyncguard` command: at most one reply (or, for a recheck, a
 * reaction and a queued review). GitHub is reached through `CommandPort` only
 * (src/github/conversation.ts implements it); the reply texts come from src/findings/render.ts.
 */
import { readMarkerRule } from '../findings/fingerprint.js';
import {
  renderCommandHint,
  renderExplainReply,
  renderHelpReply,
  renderRecheckClosed,
  renderRecheckRefusal,
  renderUnknownRuleReply,
} from '../findings/render.js';
import type { PullRequestRef } from '../pipeline/ports.js';
import { findRule, RULES, suggestRules } from '../rules/registry.js';
import type { Command } from './parse.js';

/** Who may run `/asyncguard recheck`: people with write access to the repository. */
export const RECHECK_ASSOCIATIONS: ReadonlySet<string> = new Set(['OWNER', 'MEMBER', 'COLLABORATOR']);

/** The first comment of a review thread, as read back from GitHub. */
export interface ThreadTopComment {
  body: string;
  /** The author's account type: `Bot` for GitHub Apps. */
  authorType: string | undefined;
}

/** What answering a command needs from GitHub, for the comment that holds the command. */
export interface CommandPort {
  /** Replies where the command was written: the PR conversation, or the review thread. */
  reply(body: string): Promise<void>;
  /** Acknowledges the command with a reaction on its comment. */
  acknowledge(): Promise<void>;
  /** The top comment of the review thread the command replies in; null outside a thread reply. */
  threadTop(): Promise<ThreadTopComment | null>;
  /** The pull request as it is now. */
  pullRequest(): Promise<{ ref: PullRequestRef; open: boolean }>;
}

export interface CommandInput {
  command: Command;
  /** The commenter's author_association (OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE, ...). */
  association: string;
}

/** What happened, for the log. */
export type CommandOutcome =
  | 'explained'
  | 'explained-thread-rule'
  | 'unknown-rule'
  | 'usage-hint'
  | 'help'
  | 'recheck-queued'
  | 'recheck-refused'
  | 'recheck-closed';

export async function respond(
  { command, association }: CommandInput,
  port: CommandPort,
  recheck: (pr: PullRequestRef) => void,
): Promise<CommandOutcome> {
  switch (command.kind) {
    case 'help':
      await port.reply(renderHelpReply(RULES));
      return 'help';
    case 'unknown':
      await port.reply(renderCommandHint(RULES, { command: command.name }));
      return 'usage-hint';
    case 'explain': {
      if (command.rule !== null) {
        const rule = findRule(command.rule);
        if (rule) {
          await port.reply(renderExplainReply(rule));
          return 'explained';
        }
        await port.reply(renderUnknownRuleReply(command.rule, suggestRules(command.rule)));
        return 'unknown-rule';
      }
      const threadRule = await ruleOfBotThread(port);
      if (threadRule) {
        await port.reply(renderExplainReply(threadRule));
        return 'explained-thread-rule';
      }
      await port.reply(renderCommandHint(RULES));
      return 'usage-hint';
    }
    case 'recheck': {
      if (!RECHECK_ASSOCIATIONS.has(association)) {
        await port.reply(renderRecheckRefusal());
        return 'recheck-refused';
      }
      const { ref, open } = await port.pullRequest();
      if (!open) {
        await port.reply(renderRecheckClosed());
        return 'recheck-closed';
      }
      // The reaction first, then the review is queued (it runs after the webhook is answered).
      // A refused reaction still queues the review, and its error is reported.
      try {
        await port.acknowledge();
      } finally {
        recheck(ref);
      }
      return 'recheck-queued';
    }
  }
}

/**
 * The rule of the review thread the command replies in, when asyncguard started that thread:
 * its top comment is a Bot's and carries asyncguard's marker naming a known rule. (The REST
 * review comment has no `performed_via_github_app`, so the app id cannot be compared; a foreign
 * bot copying the marker could at most make asyncguard explain one of its own rules.)
 */
async function ruleOfBotThread(port: CommandPort) {
  const top = await port.threadTop();
  if (!top || top.authorType !== 'Bot') return undefined;
  const ruleId = readMarkerRule(top.body);
  return ruleId ? findRule(ruleId) : undefined;
}
