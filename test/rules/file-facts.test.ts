// Rules that depend on a fact about the whole file, which one fixture file cannot show both ways.
import { describe, expect, it } from 'vitest';
import { parsePython } from '../../src/python/parser.js';
import { WHOLE_FILE } from '../../src/python/scopes.js';
import { runRules } from '../../src/rules/engine.js';
import { RULES } from '../../src/rules/registry.js';

function lines(source: string, ruleId: string): number[] {
  const findings = runRules(parsePython('f.py', source), RULES, {
    scopes: WHOLE_FILE,
    onRuleError: (rule, error) => {
      throw new Error(`${rule.meta.id}: ${String(error)}`);
    },
  });
  return findings.filter((f) => f.ruleId === ruleId).map((f) => f.line);
}

describe('AG107 sync-db-driver: a file whose every database is in memory', () => {
  // matridge's reaction cache: SQLAlchemy on an in-memory SQLite database, queried from async code.
  const cache = (url: string) =>
    [
      'import sqlalchemy as sa',
      'from sqlalchemy.orm import sessionmaker',
      '',
      '',
      'class ReactionCache:',
      '    async def get(self, stmt):',
      '        with Session() as session:',
      '            return session.scalars(stmt).all()',
      '',
      '',
      `engine = sa.create_engine(${url})`,
      'Session = sessionmaker(engine)',
      '',
    ].join('\n');

  it('is left alone: its queries wait for no disk or server', () => {
    expect(lines(cache('"sqlite:///:memory:"'), 'AG107')).toEqual([]);
  });

  it('is flagged when the database is a file or a server', () => {
    expect(lines(cache('"sqlite:///reactions.db"'), 'AG107')).toEqual([7]);
    expect(lines(cache('"postgresql://db/app"'), 'AG107')).toEqual([7]);
  });

  it('is flagged when another database of the file is a real one', () => {
    const mixed = cache('"sqlite:///:memory:"') + 'archive = sa.create_engine("sqlite:///archive.db")\n';
    expect(lines(mixed, 'AG107')).toEqual([7]);
  });
});
