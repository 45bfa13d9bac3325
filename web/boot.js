// web/boot.js: the first requests of the volunteer page, sent the moment this tiny module arrives
// (an async module in the page's head) rather than after the page's big script has been fetched,
// parsed and run — on slow 3G that is one round trip and a second of a slow phone's CPU earlier
// (issue 13, make bench-phone). Nothing is kept: each answer is handed once to app.js's api()
// for the same request and then forgotten; a page that asks for something else fetches it anew.
const started = new Map();

function go(path) {
  started.set(path, fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' }).catch(() => null));
}

// The answer already under way for `path` (a GET), once; undefined when none was started.
export function takeEarly(path) {
  const p = started.get(path);
  started.delete(path);
  return p;
}

// only where someone has signed in on this browser (app.js's hint): a stranger's first visit
// asks for nothing it would be refused
if (/\/volunteer\.html$/.test(location.pathname)) {
  go('/v1/session'); // asked by the page in any case (a stranger is sent to sign in)
}
if (/\/volunteer\.html$/.test(location.pathname) && localStorage.getItem('choso.signedIn') === '1') {
  go('/v1/targets');
  go('/v1/households?limit=20&order=newest');
  go('/v1/sales?state=pending&limit=50');
}
