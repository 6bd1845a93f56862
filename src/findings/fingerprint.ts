import { createHash } from 'node:crypto';
import type { Finding } from '../rules/types.js';

export interface FingerprintedFinding extends Finding {
  /** Line-independent identity: survives edits above the finding, changes when the code does. */
  fingerprint: string;
}

/**
 * rule + file + enclosing qualified name + normalised source of the flagged node, plus the
 * occurrence number among identical keys so two `time.sleep(1)` in one function stay distinct.
 */
export function fingerprintAll(findings: readonly Finding[]): FingerprintedFinding[] {
  const seen = new Map<string, number>();
  return findings.map((finding) => {
    const key = [finding.ruleId, finding.path, finding.scope, finding.snippet].join('\u0000');
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    const fingerprint = createHash('sha256').update(`${key}\u0000${occurrence}`).digest('hex').slice(0, 16);
    return { ...finding, fingerprint };
  });
}

// `rule=` names the finding's rule, for `/asyncguard explain` replies in the thread. Markers
// written before it was added carry only the fingerprint.
const MARKER = /<!-- asyncguard:fp=([0-9a-f]{16})(?: rule=(AG\d{3}))? -->/g;

export function fingerprintMarker(fingerprint: string, ruleId: string): string {
  return `<!-- asyncguard:fp=${fingerprint} rule=${ruleId} -->`;
}

/** Fingerprints carried by a comment body the bot posted earlier. */
export function readFingerprints(body: string): string[] {
  return [...body.matchAll(MARKER)].map((match) => match[1]!);
}

/** The rule id a bot comment's marker names, or null (no marker, or one without a rule). */
export function readMarkerRule(body: string): string | null {
  for (const match of body.matchAll(MARKER)) if (match[2]) return match[2];
  return null;
}
