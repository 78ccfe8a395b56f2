/** A captured pane (text with SGR escapes, as `tmux capture-pane -e` writes it) as HTML. */
import { describe, expect, it } from 'vitest';
import { ansiToHtml, ansiToHtmlPage } from '../../../src/top/ansiHtml.ts';

describe('ansiToHtml', () => {
  it('turns bold, dim and colours into styled spans and resets them', () => {
    expect(ansiToHtml('\x1b[1m\x1b[36mdiffwatch top\x1b[0;2m\x1b[39m\x1b[49m  db')).toBe('<span style="color:#34e2e2;font-weight:bold">diffwatch top</span><span style="opacity:0.6">  db</span>');
    expect(ansiToHtml('\x1b[31ma\x1b[39mb\x1b[91mc\x1b[0m')).toBe('<span style="color:#ef5350">a</span>b<span style="color:#ff6e6e">c</span>');
  });

  it('reads 256-colour and true-colour codes and drops other escapes', () => {
    expect(ansiToHtml('\x1b[38;5;196mx\x1b[48;2;1;2;3my\x1b[?25l\x1b[2K')).toBe('<span style="color:rgb(255,0,0)">x</span><span style="color:rgb(255,0,0);background:rgb(1,2,3)">y</span>');
  });

  it('escapes HTML and writes a fixed-width page without the trailing blank lines', () => {
    expect(ansiToHtml('<a & b>')).toBe('&lt;a &amp; b&gt;');
    const page = ansiToHtmlPage('x\n\n\n', { title: 't', columns: 80 });
    expect(page).toContain('width:80ch');
    expect(page).toContain('<pre>x</pre>');
  });
});
