/**
 * The character rules for names that arrive as data and end up as InfluxDB tags and field
 * keys, Kafka keys and file names: entity ids, channel names, tag keys and tag values.
 *
 * A name is accepted when it
 * - is not empty and has at most `maxLength` characters (Unicode code points);
 * - is well-formed Unicode: no unpaired surrogate (UTF-8 would turn it into U+FFFD, so two
 *   different ids would become one Kafka key and one InfluxDB series) and no U+FFFD itself
 *   (the mark of bytes a decoder could not read, so it stands for many different inputs);
 * - holds no control character (Cc: U+0000–U+001F, U+007F–U+009F), no line or paragraph
 *   separator (U+2028, U+2029), no format character (Cf, e.g. U+200B, U+FEFF, bidi controls)
 *   and no other default-ignorable code point (U+034F, U+115F, U+3164, variation selectors…):
 *   such characters break lines or render as nothing, so `a` and `a`+U+200B would look like
 *   one entity on a dashboard while being two;
 * - has no backslash before a comma, `=`, a space, a double quote or the end: InfluxDB 1.x line
 *   protocol reads such a backslash as an escape and has no way to write it literally (measured
 *   against InfluxDB 1.6.7 on every string of up to 4 characters over `a\,= "'#`).
 *
 * Everything else (spaces, commas, `=`, quotes, backslashes inside, any script, emoji without
 * selectors) is kept exactly as sent: names are never trimmed, case-folded or normalised.
 *
 * @example
 * textProblem('pump-7', 256)  // undefined
 * textProblem('a\nb', 256)    // 'contains U+000A (a control character)'
 */

/** Default of `ingest.maxNameLength`: characters (code points) per entity id, channel name, tag key or value. */
export const DEFAULT_MAX_NAME_LENGTH = 256;

const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\uFFFD]/u;

/** A backslash that line protocol would read as an escape in a tag value or a field key. */
export const BACKSLASH_ESCAPE = /\\(?:[,= "]|$)/;

function kindOf(ch: string): string {
  if (/\p{Cc}/u.test(ch)) return 'a control character';
  if (/[\p{Zl}\p{Zp}]/u.test(ch)) return 'a line or paragraph separator';
  if (/\p{Cs}/u.test(ch)) return 'an unpaired surrogate';
  if (ch === '\uFFFD') return 'the replacement character of undecodable bytes';
  return 'an invisible format character';
}

/** `U+000A` for a character. */
export function codePointLabel(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why `text` is not an acceptable name, or undefined when it is. */
export function textProblem(text: string, maxLength: number): string | undefined {
  if (text.length === 0) return 'must not be empty';
  const bad = FORBIDDEN.exec(text);
  if (bad) return `contains ${codePointLabel(bad[0])} (${kindOf(bad[0])})`;
  if (BACKSLASH_ESCAPE.test(text)) return 'must not have a backslash before a comma, "=", a space, a double quote or the end';
  // Counting code points only when the UTF-16 length could exceed the limit keeps this cheap.
  if (text.length > maxLength && [...text].length > maxLength) return `is longer than ${maxLength} characters`;
  return undefined;
}

/**
 * `text` made safe to print in one line of a message or a header: forbidden characters and
 * backslashes become `\u{…}` escapes, and it is cut to `max` characters.
 */
export function printable(text: string, max = 80): string {
  const shown = [...text].slice(0, max).map((ch) => (ch === '\\' || FORBIDDEN.test(ch) ? `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}` : ch));
  return shown.join('') + ([...text].length > max ? '…' : '');
}
