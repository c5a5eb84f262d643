import type { Verdict } from '@formsecurity/core';

/** Escapes text for HTML element content and attribute values. */
function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #1d232b; }
  form { display: grid; gap: .75rem; } label { display: grid; gap: .25rem; font-weight: 600; }
  input, textarea { font: inherit; padding: .5rem; border: 1px solid #aab3bf; border-radius: 6px; }
  button { font: inherit; padding: .6rem 1.2rem; border: 0; border-radius: 6px; background: #2456d1; color: #fff; cursor: pointer; justify-self: start; }
  .hp { position: absolute; left: -10000px; }
  table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e3e7ec; }
  .decision { font-size: 1.4rem; font-weight: 700; } .allow { color: #17803d; } .review { color: #9a6700; }
  .challenge { color: #b35900; } .block { color: #c0262d; } code { background: #f1f3f6; padding: 0 .25rem; border-radius: 4px; }
`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

/** The contact form, with hints for trying out a listed submission. */
export function formPage(hints: readonly string[]): string {
  return layout(
    'Contact us — FormSecurity demo',
    `<h1>Contact us</h1>
<p>This form is protected by FormSecurity. Submit it to see the verdict.</p>
<form method="post" action="/contact">
  <label>Name <input name="name" autocomplete="name"></label>
  <label>E-mail <input name="email" type="email" autocomplete="email"></label>
  <label>Message <textarea name="message" rows="5"></textarea></label>
  <label class="hp" aria-hidden="true">Leave empty <input name="website" tabindex="-1" autocomplete="off"></label>
  <button type="submit">Send</button>
</form>
<h2>Try it</h2><ul>${hints.map((h) => `<li>${h}</li>`).join('')}</ul>`,
  );
}

/** The verdict as a page: decision, score and each signal's status and latency. */
export function verdictPage(verdict: Verdict): string {
  const rows = Object.entries(verdict.signals)
    .map(
      ([name, s]) =>
        `<tr><td>${escape(name)}</td><td>${escape(s.status)}</td><td>${s.score === undefined ? '—' : s.score.toFixed(2)}</td>` +
        `<td>${s.latencyMs.toFixed(1)} ms</td><td>${s.reasons.map(escape).join('<br>')}</td></tr>`,
    )
    .join('');
  return layout(
    `Verdict: ${verdict.decision}`,
    `<h1>Verdict</h1>
<p class="decision ${escape(verdict.decision)}" data-decision="${escape(verdict.decision)}">${escape(verdict.decision)}</p>
<p>Score <strong>${verdict.score.toFixed(2)}</strong> · ${verdict.durationMs.toFixed(1)} ms${verdict.degraded ? ' · <strong>degraded</strong>' : ''}</p>
<table><thead><tr><th>Provider</th><th>Status</th><th>Score</th><th>Latency</th><th>Reasons</th></tr></thead><tbody>${rows}</tbody></table>
${verdict.reasons.length > 0 ? `<h2>Reasons</h2><ul>${verdict.reasons.map((r) => `<li>${escape(r)}</li>`).join('')}</ul>` : ''}
<p><a href="/">Back to the form</a></p>`,
  );
}
