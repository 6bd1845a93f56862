/**
 * The four skill guides asyncguard enforces (shared/seeds). Every rule cites sections of them;
 * a citation names the guide by its skill name and section heading and links upstream where a
 * public location is known.
 */
export interface SkillGuide {
  key: 'S0' | 'S1' | 'S2' | 'S3';
  name: string;
  file: string;
  url?: string;
}

export const SKILL_GUIDES: Record<SkillGuide['key'], SkillGuide> = {
  S0: {
    key: 'S0',
    name: 'async-python-patterns (decision framework)',
    file: '000_f27d0daa3c35a44e.txt',
    url: 'https://github.com/event4u-app/agent-config',
  },
  S1: {
    key: 'S1',
    name: 'async-python',
    file: '001_2c6b7457d2728141.txt',
  },
  S2: {
    key: 'S2',
    name: 'python-async-patterns',
    file: '002_3062c9f8234e4c17.txt',
    url: 'https://github.com/0xDarkMatter/claude-mods/tree/main/skills/python-async-patterns',
  },
  S3: {
    key: 'S3',
    name: 'async-python-patterns',
    file: '003_86ae208f53f97996.txt',
    url: 'https://github.com/wshobson/agents/blob/main/plugins/python-development/skills/async-python-patterns/SKILL.md',
  },
};

/** One cited section: the guide and the heading as the guide spells it. */
export interface SkillSection {
  guide: SkillGuide['key'];
  section: string;
}
