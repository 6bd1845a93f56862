// `npm run docs`: regenerate docs/rules from the rule metadata (a test fails when they are stale).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rulePages } from './rule-pages.js';

const dir = join(process.cwd(), 'docs', 'rules');
mkdirSync(dir, { recursive: true });
const pages = rulePages();
for (const name of readdirSync(dir)) if (!pages.has(name)) rmSync(join(dir, name));
for (const [name, content] of pages) writeFileSync(join(dir, name), content);
process.stdout.write(`wrote ${pages.size} pages to docs/rules\n`);
