// The account browser's search: a query is words, every one of which an account (its name,
// id or e-mail) or one of its roles must match.
//
// A word with `*`, `?`, `[` or `{` in it is a glob over the whole text, read as the core
// reads the globs of `aws-sso-auth accounts --name` and `list --account/--role` (NameGlob
// in src/portal/mod.rs), held to it by tests/fixtures/rules.json:
//   `*` any run of characters (`**` the same), `?` one character, `[ab]` `[a-z]`
//   `[[:digit:]]` one of, `[!ab]` `[^ab]` none of (a `]` first and a `-` first or last are
//   themselves), `{a,b}` one of the alternatives (they nest; `a{,s}` is `a` or `as`),
//   `\` makes the next character itself.
// Any other word, and a word that is no glob (`[` or `{` not closed, a `}` with none open, a
// range backwards, a `\` at the end: the core refuses those), is the search box's own
// rule: found anywhere in the text (`prod` finds `acme-prod-eu`).
// Both the query and the texts are folded first, as the core folds both: accents dropped,
// lower case, so "zurich" finds "Zürich".

/** Lower case without accents (NFKD, combining marks dropped), so "zurich" finds "Zürich". */
export const fold = (text) => String(text).normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

/** The classes globset knows by name, in ASCII. */
const POSIX = {
  alnum: [['0', '9'], ['A', 'Z'], ['a', 'z']],
  alpha: [['A', 'Z'], ['a', 'z']],
  blank: [['\t', '\t'], [' ', ' ']],
  cntrl: [['\x00', '\x1f'], ['\x7f', '\x7f']],
  digit: [['0', '9']],
  graph: [['!', '~']],
  lower: [['a', 'z']],
  print: [[' ', '~']],
  punct: [['!', '/'], [':', '@'], ['[', '`'], ['{', '~']],
  space: [['\t', '\r'], [' ', ' ']],
  upper: [['A', 'Z']],
  xdigit: [['0', '9'], ['A', 'F'], ['a', 'f']],
};

/** Alternatives nested deeper than this are refused, as globset refuses them. */
const MAX_NESTED = 100;

/** A character's code point: characters are ordered by it, as in the core. */
const cp = (c) => c.codePointAt(0);

/** One character in a regular expression (flag `u`), escaped whatever it is. */
const esc = (c) => `\\u{${cp(c).toString(16)}}`;

/** A class, from just after its `[` in `chars` (code points) at `i`: `[regex source, next
 * index]`, or null when globset refuses it. Its ranges are globset's, quirks and all (a `-`
 * after a range moves its end: `[a-c-e]` is `[a-e]`). */
function globClass(chars, i) {
  const negated = chars[i] === '!' || chars[i] === '^';
  if (negated) i++;
  const ranges = [];
  let first = true;
  let inRange = false;
  for (;;) {
    if (i >= chars.length) return null;
    const c = chars[i++];
    if (c === ']' && !first) break;
    if (c === '-' && first) ranges.push(['-', '-']);
    else if (c === '-' && inRange) {
      const last = ranges[ranges.length - 1];
      if (cp('-') < cp(last[0])) return null;
      last[1] = '-';
      inRange = false;
    } else if (c === '-') inRange = true;
    else if (c === '[' && !inRange && chars[i] === ':') {
      // A POSIX class, `[:name:]`: a name globset does not know is a `[`, and what was
      // read is gone, as there; not one at all is a `[`.
      let j = i + 1;
      let name = '';
      while (j < chars.length && chars[j] !== ':' && /^[a-z]$/.test(chars[j]) && name.length < 8) name += chars[j++];
      if (chars[j] === ':' && chars[j + 1] === ']') {
        i = j + 2;
        if (Object.hasOwn(POSIX, name)) ranges.push(...POSIX[name].map((r) => [...r]));
        else ranges.push(['[', '[']);
      } else ranges.push(['[', '[']);
    } else {
      if (inRange) {
        const last = ranges[ranges.length - 1];
        if (cp(c) < cp(last[0])) return null;
        last[1] = c;
      } else ranges.push([c, c]);
      inRange = false;
    }
    first = false;
  }
  if (inRange) ranges.push(['-', '-']);
  // The text is in lower case; a class of capitals (`[[:upper:]]`) matches its letters.
  const lower = ranges.filter(([a, b]) => cp(a) <= cp('Z') && cp(b) >= cp('A'))
    .map(([a, b]) => [(cp(a) < cp('A') ? 'A' : a).toLowerCase(), (cp(b) > cp('Z') ? 'Z' : b).toLowerCase()]);
  const body = [...ranges, ...lower].map(([a, b]) => (a === b ? esc(a) : `${esc(a)}-${esc(b)}`)).join('');
  return [`[${negated ? '^' : ''}${body}]`, i];
}

/** The test a glob stands for over a folded text (the whole of it), or null when the core
 * refuses the pattern. `pattern` is folded already. */
export function globOf(pattern) {
  const chars = [...pattern];
  let re = '';
  let open = 0;
  for (let i = 0; i < chars.length;) {
    const c = chars[i++];
    if (c === '*') {
      while (chars[i] === '*') i++;
      re += '.*';
    } else if (c === '?') re += '.';
    else if (c === '[') {
      const cls = globClass(chars, i);
      if (!cls) return null;
      [re, i] = [re + cls[0], cls[1]];
    } else if (c === '{') {
      if (++open > MAX_NESTED) return null;
      re += '(?:';
    } else if (c === '}') {
      if (!open) return null;
      open--;
      re += ')';
    } else if (c === ',' && open) re += '|';
    else if (c === '\\') {
      if (i >= chars.length) return null;
      re += esc(chars[i++]);
    } else re += esc(c);
  }
  if (open) return null;
  // `s`: `*` and `?` take a line break too; `u`: a character, not half of one.
  const regex = new RegExp(`^(?:${re})$`, 'su');
  return (text) => regex.test(text);
}

/** Whether `text` matches glob `pattern` as the core's NameGlob says; null when the core
 * refuses the pattern. */
export function globMatches(pattern, text) {
  const test = globOf(fold(pattern));
  return test ? test(fold(text)) : null;
}

/** One word of a folded query as a test of a folded text: a glob over the whole text when
 * it has a glob's characters and is one, as the CLI's (`*-prod`); else found anywhere. */
export function termTest(word) {
  const glob = /[*?[{]/.test(word) ? globOf(word) : null;
  return glob || ((text) => text.includes(word));
}

/** A query's tests: every word must match, in any order, the account (name, id, e-mail)
 * or the role. */
export const parseQuery = (query) => fold(query).split(/\s+/).filter(Boolean).map(termTest);

/** The roles of `it` a query shows: all of them when the account matches every word; else
 * those that match the words the account does not; none when the account is not a match. */
export function matchingRoles(it, tests) {
  const rest = tests.filter((t) => !it.fields.some(t));
  if (!rest.length) return it.a.roles;
  return it.a.roles.filter((_, i) => rest.every((t) => t(it.roles[i])));
}
