/**
 * `--files <glob>` over NAB data paths (`realKnownCause/nyc_taxi.csv`). `*` and `?` stay within
 * a path segment, `**` crosses segments; a comma separates alternatives. A pattern without a
 * `/` is matched against the file name alone, so `*temperature*` finds files in any category.
 */

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*' && glob[i + 1] === '*') {
      // `**/` also matches no folder at all.
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * @example matchFiles(['realKnownCause/nyc_taxi.csv', 'realTweets/Twitter_volume_FB.csv'], 'realKnownCause/*') // ['realKnownCause/nyc_taxi.csv']
 * @example matchFiles(paths, '*taxi*,*_FB.csv') // both
 */
export function matchFiles(paths: readonly string[], pattern: string | undefined): string[] {
  if (pattern === undefined || pattern.trim() === '') return [...paths];
  const tests = pattern.split(',').map((p) => p.trim()).filter((p) => p.length > 0).map((p) => {
    const re = globToRegExp(p);
    return p.includes('/') ? (path: string) => re.test(path) : (path: string) => re.test(path.slice(path.lastIndexOf('/') + 1));
  });
  return paths.filter((path) => tests.some((t) => t(path)));
}
