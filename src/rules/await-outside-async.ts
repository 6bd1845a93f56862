import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';

/** The innermost construct that decides whether `await` is allowed, as the message names it. */
interface Context {
  /** True when `await` / `async for` / `async with` / async comprehensions are valid here. */
  async: boolean;
  /** `the sync function \`load\``, `a lambda`, `the body of class \`C\``, `module-level code`. */
  where: string;
}

const MODULE_LEVEL = 'module-level code';
/** Cell markers of a notebook kept as a `.py` file: jupytext / VS Code / Spyder `# %%`, a jupytext header, an nbconvert `# In[1]:`. */
const NOTEBOOK_MARKERS = /^(# %%|#%%|# In\[[\d ]*\]:|# +jupytext:)/m;
const COMPREHENSIONS = new Set(['list_comprehension', 'set_comprehension', 'dictionary_comprehension', 'generator_expression']);

/**
 * Where CPython's compiler would place `node`, walking up the syntax tree:
 * - the body of an `async def` allows it; a sync `def`, a lambda body, a class body and the module
 *   do not (parameter defaults, decorators and annotations belong to the enclosing scope);
 * - since Python 3.8 an asynchronous generator expression may appear in any function, so a node
 *   inside a generator expression (other than in its first iterable, evaluated outside it) is
 *   allowed wherever it is. List, set and dict comprehensions get no such exemption.
 */
function contextOf(node: SyntaxNode): Context {
  let child = node;
  /** The generator expression whose first iterable the walk came up through. */
  let firstIterableOf: number | null = null;
  for (let parent = node.parent; parent; child = parent, parent = parent.parent) {
    switch (parent.type) {
      case 'for_in_clause':
        if (parent.childForFieldName('right')?.id === child.id && parent.parent?.type === 'generator_expression') {
          const first = parent.parent.namedChildren.find((c) => c.type === 'for_in_clause');
          if (first?.id === parent.id) firstIterableOf = parent.parent.id;
        }
        break;
      case 'generator_expression':
        if (firstIterableOf !== parent.id) return { async: true, where: 'a generator expression' };
        break;
      case 'function_definition':
        if (parent.childForFieldName('body')?.id !== child.id) break;
        if (parent.child(0)?.type === 'async' || asyncLostToRecovery(parent)) return { async: true, where: '' };
        return { async: false, where: `the sync function \`${parent.childForFieldName('name')?.text ?? '?'}\`` };
      case 'lambda':
        if (parent.childForFieldName('body')?.id !== child.id) break;
        return { async: false, where: 'a lambda' };
      case 'class_definition':
        if (parent.childForFieldName('body')?.id !== child.id) break;
        return { async: false, where: `the body of class \`${parent.childForFieldName('name')?.text ?? '?'}\`` };
      case 'module':
        return { async: false, where: MODULE_LEVEL };
    }
  }
  return { async: false, where: MODULE_LEVEL };
}

/**
 * `async def f():` right after a syntax error tree-sitter could not place: the parser may keep the
 * `async` keyword in the ERROR node before the `def` (libcst's parser fixtures), and the function
 * then looks sync. The source says `async def`, so it is one.
 */
function asyncLostToRecovery(definition: SyntaxNode): boolean {
  const before = definition.previousSibling;
  return before?.type === 'ERROR' && /\basync\s*$/.test(before.text);
}

export const awaitOutsideAsync: Rule = {
  meta: {
    id: 'AG209',
    slug: 'await-outside-async',
    aliases: ['PLE1142', 'F704'],
    family: 'coroutines',
    severity: 'error',
    title: '`await` outside an async function',
    fix: 'Make the enclosing function `async def` (and `await` it where it is called); from a sync entry point, run the coroutine with `asyncio.run(...)` instead.',
    messages: {
      await: '`await` in {where} is a SyntaxError: the module cannot be imported',
      asyncFor: '`async for` in {where} is a SyntaxError: the module cannot be imported',
      asyncWith: '`async with` in {where} is a SyntaxError: the module cannot be imported',
      comprehension: 'An asynchronous comprehension in {where} is a SyntaxError: the module cannot be imported',
    },
    docs: {
      what: 'Flags `await`, `async for`, `async with` and asynchronous list/set/dict comprehensions (`[x async for x in it]`, `[await f(x) for x in xs]`) in a sync `def`, a lambda, a class body or at module level. A nested `def` inside an `async def` is sync: `await` there is flagged too. Not flagged: parameter defaults and decorators of a def nested in an `async def` (they run in the outer function), and asynchronous generator expressions (`(await f(x) for x in xs)`), which Python 3.8+ accepts in any function. Top-level `await` is flagged (it works in a notebook or `python -m asyncio`, not in a `.py` module), except in a notebook kept as a script: a file with `# %%` cell markers, a jupytext header or nbconvert `# In[1]:` cells.',
      why: 'CPython rejects these at compile time: `SyntaxError: \'await\' outside async function`, or "asynchronous comprehension outside of an asynchronous function". The whole module fails to import, so every caller of every function in it breaks, not just the one path. The usual cause is making a helper async-aware by adding `await` to its body but forgetting to turn its `def` into `async def`; a parser-based tool that does not compile the file (tree-sitter, most editors) shows no error.',
      example: [
        'import asyncio',
        '',
        '',
        'def load_user(db, user_id):',
        '    row = await db.fetchrow("SELECT * FROM users WHERE id = $1", user_id)',
        '    return dict(row)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def load_user(db, user_id):',
        '    row = await db.fetchrow("SELECT * FROM users WHERE id = $1", user_id)',
        '    return dict(row)',
      ].join('\n'),
    },
    cites: [{ guide: 'S1', section: 'Pitfall 4: Mixing Async and Sync' }],
  },
  create(ctx: RuleContext) {
    let notebook: boolean | null = null;

    function check(node: SyntaxNode, report: SyntaxNode, messageId: string): void {
      // Directly in an async def body (comprehensions included): always valid.
      if (ctx.inAsyncCode()) return;
      const context = contextOf(node);
      if (context.async) return;
      // A notebook saved as a script (jupytext / VS Code `# %%` cells) runs its top level on the
      // kernel's loop, where top-level `await` is valid.
      if (context.where === MODULE_LEVEL && (notebook ??= NOTEBOOK_MARKERS.test(ctx.file.source))) return;
      ctx.report({ node: report, messageId, data: { where: context.where } });
    }

    /** The `async` keyword of a statement or `for` clause, if it has one. */
    const asyncKeyword = (node: SyntaxNode) => (node.child(0)?.type === 'async' ? node.child(0) : null);

    return {
      await(node) {
        check(node, node, 'await');
      },
      for_statement(node) {
        const keyword = asyncKeyword(node);
        if (keyword) check(node, keyword, 'asyncFor');
      },
      with_statement(node) {
        const keyword = asyncKeyword(node);
        if (keyword) check(node, keyword, 'asyncWith');
      },
      for_in_clause(node) {
        if (!asyncKeyword(node) || !COMPREHENSIONS.has(node.parent?.type ?? '')) return;
        check(node, node.parent!, 'comprehension');
      },
    };
  },
};
