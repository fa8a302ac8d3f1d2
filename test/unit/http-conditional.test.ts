/** The pure parts of /v1's HTTP handling: If-None-Match, the Bearer scheme, undecodable paths. */
import t from 'tap';
import { matchesCurrent, parseIfNoneMatch } from '../../src/http/conditional.js';
import { bearerToken } from '../../src/http/bearer.js';
import { escapeUndecodablePath } from '../../src/http/server.js';

t.test('parseIfNoneMatch: *, strong and weak tags, lists, junk', async (t) => {
  const cases: [string | undefined, ReturnType<typeof parseIfNoneMatch>][] = [
    [undefined, undefined],
    ['*', { any: true }],
    [' * ', { any: true }],
    ['"abc"', { any: false, tags: ['abc'] }],
    ['W/"abc"', { any: false, tags: ['abc'] }],
    ['"a", W/"b" ,"c"', { any: false, tags: ['a', 'b', 'c'] }],
    ['"a,b"', { any: false, tags: ['a,b'] }],
    ['w/"abc"', { any: false, tags: [] }],
    ['abc', { any: false, tags: [] }],
    ['abc, "d"', { any: false, tags: ['d'] }],
    ['"unterminated', { any: false, tags: [] }],
    ['', { any: false, tags: [] }],
    ['"a", *', { any: false, tags: ['a'] }],
  ];
  for (const [value, expected] of cases) t.same(parseIfNoneMatch(value), expected, String(value));
});

t.test('matchesCurrent compares weakly', async (t) => {
  t.equal(matchesCurrent(undefined, 'g'), false);
  t.equal(matchesCurrent(parseIfNoneMatch('*'), 'g'), true);
  t.equal(matchesCurrent(parseIfNoneMatch('W/"g"'), 'g'), true);
  t.equal(matchesCurrent(parseIfNoneMatch('"x", W/"g"'), 'g'), true);
  t.equal(matchesCurrent(parseIfNoneMatch('"x"'), 'g'), false);
});

t.test('bearerToken: scheme case-insensitive, one or more spaces, token exact', async (t) => {
  t.equal(bearerToken('Bearer abc'), 'abc');
  t.equal(bearerToken('bearer abc'), 'abc');
  t.equal(bearerToken('BEARER   abc'), 'abc');
  t.equal(bearerToken('Bearer ABC'), 'ABC');
  t.equal(bearerToken('Bearerabc'), '');
  t.equal(bearerToken('Basic abc'), '');
  t.equal(bearerToken('Bearer'), '');
  t.equal(bearerToken(undefined), '');
});

t.test('escapeUndecodablePath escapes only paths that do not decode, and never the query', async (t) => {
  t.equal(escapeUndecodablePath('/v1/racks/r1?wait=1'), '/v1/racks/r1?wait=1');
  t.equal(escapeUndecodablePath('/v1/racks/r%2D1'), '/v1/racks/r%2D1');
  t.equal(escapeUndecodablePath('/v1/racks/%E0%A4%A?x=%zz'), '/v1/racks/%25E0%25A4%25A?x=%zz');
  t.equal(escapeUndecodablePath('/v1/racks/%zz'), '/v1/racks/%25zz');
});
