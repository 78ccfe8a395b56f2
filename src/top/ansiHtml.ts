/**
 * A captured terminal screen (`tmux capture-pane -p -e`: text with SGR colour escapes) as an
 * HTML page of one `<pre>`, for the screenshot in the README (scripts/top-screenshot.ts).
 * Handles what ink and tmux emit: reset, bold, dim, the 8 + 8 named colours, 256-colour and
 * true-colour foregrounds and backgrounds. Other escapes are dropped.
 *
 * @example
 * ansiToHtmlPage('\x1b[1m\x1b[36mdiffwatch top\x1b[39m\x1b[22m', { title: 'diffwatch top' });
 */

/** xterm's default palette, slightly softened on a dark background. */
const PALETTE = ['#2e3436', '#ef5350', '#8ae234', '#fce94f', '#729fcf', '#ad7fa8', '#34e2e2', '#d3d7cf', '#888a85', '#ff6e6e', '#b5f56a', '#fff68f', '#9cc4f5', '#d7a8d2', '#7ff5f5', '#eeeeec'];

interface Style {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
}

function color256(n: number): string {
  if (n < 16) return PALETTE[n];
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const c = n - 16;
  const level = (k: number) => (k === 0 ? 0 : 55 + k * 40);
  return `rgb(${level(Math.floor(c / 36))},${level(Math.floor(c / 6) % 6)},${level(c % 6)})`;
}

/** Applies one SGR parameter list to `s`. */
function applySgr(s: Style, params: number[]): Style {
  const out = { ...s };
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (p === 0) Object.assign(out, { fg: undefined, bg: undefined, bold: false, dim: false });
    else if (p === 1) out.bold = true;
    else if (p === 2) out.dim = true;
    else if (p === 22) Object.assign(out, { bold: false, dim: false });
    else if (p >= 30 && p <= 37) out.fg = PALETTE[p - 30];
    else if (p >= 90 && p <= 97) out.fg = PALETTE[p - 90 + 8];
    else if (p === 39) out.fg = undefined;
    else if (p >= 40 && p <= 47) out.bg = PALETTE[p - 40];
    else if (p >= 100 && p <= 107) out.bg = PALETTE[p - 100 + 8];
    else if (p === 49) out.bg = undefined;
    else if (p === 38 || p === 48) {
      const key = p === 38 ? 'fg' : 'bg';
      if (params[i + 1] === 5) {
        out[key] = color256(params[i + 2] ?? 0);
        i += 2;
      } else if (params[i + 1] === 2) {
        out[key] = `rgb(${params[i + 2] ?? 0},${params[i + 3] ?? 0},${params[i + 4] ?? 0})`;
        i += 4;
      }
    }
  }
  return out;
}

const escapeHtml = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function span(style: Style, text: string): string {
  if (text === '') return '';
  const css = [style.fg && `color:${style.fg}`, style.bg && `background:${style.bg}`, style.bold && 'font-weight:bold', style.dim && 'opacity:0.6'].filter(Boolean).join(';');
  return css ? `<span style="${css}">${escapeHtml(text)}</span>` : escapeHtml(text);
}

/** The screen's text as HTML spans; escapes other than SGR are dropped. */
export function ansiToHtml(screen: string): string {
  let style: Style = {};
  let html = '';
  const re = /\x1b\[([?0-9;]*)([A-Za-z])|\x1b[()][0-9A-Za-z]|\x1b[=>]/g;
  let at = 0;
  for (let m = re.exec(screen); m; m = re.exec(screen)) {
    html += span(style, screen.slice(at, m.index));
    at = re.lastIndex;
    if (m[2] === 'm' && !m[1].startsWith('?')) style = applySgr(style, (m[1] || '0').split(';').map(Number));
  }
  return html + span(style, screen.slice(at));
}

/** A whole page: the screen in a dark, fixed-width `<pre>` `columns` characters wide. */
export function ansiToHtmlPage(screen: string, opts: { title: string; columns?: number }): string {
  const columns = opts.columns ?? 120;
  return [
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(opts.title)}</title>`,
    `<style>body{margin:0;background:#1e1e1e}pre{margin:0;padding:14px 16px;color:#d3d7cf;background:#1e1e1e;font:14px/1.3 'DejaVu Sans Mono',monospace;width:${columns}ch;white-space:pre}</style>`,
    `</head><body><pre>${ansiToHtml(screen.replace(/\s+$/, ''))}</pre></body></html>`,
  ].join('\n');
}
