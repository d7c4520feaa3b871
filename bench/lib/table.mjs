// Markdown tables and number formatting for the report and the console.

/** ns/op with about three significant digits; '—' when not measured. */
export function fmtNs(x) {
  if (x == null || !Number.isFinite(x)) return '—';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function fmtRatio(x) {
  if (x == null || !Number.isFinite(x)) return '—';
  return `${x.toFixed(2)}x`;
}

export function fmtBytes(x) {
  if (x == null || !Number.isFinite(x)) return '—';
  return x.toFixed(1);
}

export function fmtMs(x) {
  if (x == null || !Number.isFinite(x)) return '—';
  return x >= 100 ? x.toFixed(0) : x.toFixed(2);
}

/** 1000 -> "1K", 1000000 -> "1M", 1200000 -> "1.2M". */
export function fmtN(n) {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(2)}K`;
  return String(n);
}

/** A markdown table; `align` is a string of 'l'/'r' per column (default: first left). */
export function markdownTable(header, rows, align) {
  const al = align ?? 'l' + 'r'.repeat(header.length - 1);
  const cells = [header, ...rows].map((r) => r.map((c) => String(c ?? '')));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)));
  const pad = (s, i) => (al[i] === 'r' ? s.padStart(widths[i]) : s.padEnd(widths[i]));
  const line = (r) => `| ${r.map(pad).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (al[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(cells[0]), sep, ...cells.slice(1).map(line)].join('\n');
}
