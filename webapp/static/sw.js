/* Service worker (served at /sw.js with `const VERSION = "..."`, the shell's files
   `const SHELL_URLS = [...]` and `const OUTBOX_URL` prepended: views/sync.py; static
   files have versioned addresses, webapp/assets.py).
   Keeps the app shell and the signed-in worker's pages so they open with no signal,
   and replays the outbox through Background Sync. See docs/SYNC.md. */
/* global VERSION, SHELL_URLS, OUTBOX_URL, Outbox */
importScripts(OUTBOX_URL);

var SHELL = "shell-" + VERSION;
var PAGES = "pages-" + VERSION;
// How often the worker's pages are fetched again. The time is kept in the cache, so a
// worker that the browser stopped and started again does not refetch everything.
var REFRESH_EVERY_MS = 5 * 60 * 1000;
var STAMP = "/__refreshed";
// A scanned code's address -> the kept page it opens with no signal (the manifest's codes).
var CODES = "/__codes";
// Page address -> the version (manifest.versions) of the copy kept.
var VERSIONS = "/__versions";
var refreshing = null;
var again = false;  // a forced refresh asked for while one ran: run it after

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL).then(function (cache) {
      return cache.addAll(SHELL_URLS.map(function (u) {
        return new Request(u, { credentials: "same-origin" });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

// A new release: drop the old caches, take over open pages at once.
self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) {
        return k !== SHELL && k !== PAGES;
      }).map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

var clockOffsetMs = null;  // server clock minus this phone's, at the last manifest

function tellPages() {
  return self.clients.matchAll().then(function (clients) {
    clients.forEach(function (c) {
      c.postMessage({ type: "cached", clock_offset_ms: clockOffsetMs });
    });
  });
}

// Fetch the manifest and keep exactly the pages it lists; then tell the pages.
function refresh(force) {
  if (refreshing) {
    // The running one may have fetched a page before the change that asks for this.
    if (force) again = true;
    return refreshing;
  }
  refreshing = caches.open(PAGES).then(function (cache) {
    return cache.match(STAMP).then(function (hit) { return hit ? hit.text() : "0"; })
      .then(function (last) {
        if (!force && Date.now() - Number(last) < REFRESH_EVERY_MS) return null;
        return cache.put(STAMP, new Response(String(Date.now()))).then(function () {
          return serial(refill);
        });
      });
  }).then(tellPages, tellPages).then(function () {
    refreshing = null;
    if (again) {
      again = false;
      return refresh(true);
    }
  });
  return refreshing;
}

// Writes to the kept pages and their versions run one after another: a page opened
// while a refresh runs must not put an older copy over the one the refresh got.
var chain = Promise.resolve();
function serial(task) {
  chain = chain.then(task, task);
  return chain;
}

// A kept page opened online: keep this newer copy, and forget its version (it was
// rendered at some time near the manifest's, maybe before it), so the next refresh
// fetches it again rather than trust it.
function keepNavigated(request, copy) {
  var url = new URL(request.url);
  var key = url.pathname + url.search;
  return caches.open(PAGES).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (had) {
      if (!had) return null;
      return cache.put(request, copy).then(function () {
        return cache.match(VERSIONS);
      }).then(function (r) { return r ? r.json() : {}; }).then(function (versions) {
        delete versions[key];
        return cache.put(VERSIONS, new Response(JSON.stringify(versions)));
      });
    });
  }).catch(function () { return null; });
}

// The person is gone (signed out here, or their session ended elsewhere): drop their
// pages, and fetch the shell's pages (/offline, /outbox) again as nobody's, so the page
// shown with no signal names no one and promises no kept pages.
function forget() {
  // Their pushes stop on this phone too (the server stopped sending on sign-out); the
  // next person turns them on for themselves.
  var unsubscribed = self.registration.pushManager
    ? self.registration.pushManager.getSubscription().then(function (sub) {
      return sub ? sub.unsubscribe() : null;
    }).catch(function () { return null; }) : Promise.resolve();
  return unsubscribed.then(function () { return caches.delete(PAGES); }).then(function () {
    return caches.open(SHELL);
  }).then(function (cache) {
    return Promise.all(SHELL_URLS.filter(function (u) { return u.indexOf("/static/") !== 0; })
      .map(function (u) {
        return fetch(u, { credentials: "same-origin" }).then(function (r) {
          return r.ok && !r.redirected ? cache.put(u, r) : null;
        }).catch(function () { return null; });
      }));
  });
}

// Fetch the manifest; keep exactly the pages and photos it lists, fetching a page only
// when its version (manifest.versions, kept in VERSIONS) differs from the one held.
function refill() {
  return fetch("/sync/manifest", { credentials: "same-origin" }).then(function (r) {
    // The session ended elsewhere (signed out on another device, the password changed,
    // the account disabled): what was kept for it, residents' names included, goes with
    // it. The outbox stays; it waits for the next sign-in.
    if (r.status === 401) return forget().then(function () { return null; });
    if (!r.ok) return null;
    return r.json();
  }).then(function (manifest) {
    if (!manifest) return null;
    if (manifest.server_time) clockOffsetMs = Date.parse(manifest.server_time) - Date.now();
    return caches.open(PAGES).then(function (cache) {
      var wanted = {};
      manifest.pages.concat(manifest.files || []).forEach(function (p) {
        wanted[new URL(p, self.location).href] = true;
      });
      [STAMP, CODES, VERSIONS].forEach(function (p) {
        wanted[new URL(p, self.location).href] = true;
      });
      var held = {};
      return cache.put(CODES, new Response(JSON.stringify(manifest.codes || {}))).then(function () {
        return cache.match(VERSIONS);
      }).then(function (r) { return r ? r.json() : {}; }).then(function (versions) {
        held = versions;
        return cache.keys();
      }).then(function (keys) {
        return Promise.all(keys.filter(function (req) { return !wanted[req.url]; })
          .map(function (req) { return cache.delete(req); }));
      }).then(function () {
        var files = (manifest.files || []).map(function (f) {
          // Named by their content: fetched once, never again.
          return cache.match(f).then(function (hit) {
            return hit || fetch(f, { credentials: "same-origin" }).then(function (r) {
              return r.ok ? cache.put(f, r) : null;
            });
          }).catch(function () { return null; });
        });
        var versions = manifest.versions || {};
        var now = {};  // the versions held after this refresh
        var pages = manifest.pages.map(function (p) {
          var v = versions[p];
          return cache.match(p, { ignoreVary: true }).then(function (hit) {
            if (hit && v && held[p] === v) {
              now[p] = v;
              return null;
            }
            return fetch(p, { credentials: "same-origin", redirect: "follow" }).then(function (r) {
              if (!r.ok || r.redirected) return null;
              // The version read before the fetch: the page is at least that new. A
              // change in between gives a new version next time, and a fetch too many.
              return cache.put(p, r).then(function () { if (v) now[p] = v; });
            });
          }).catch(function () { return null; });
        });
        return Promise.all(pages.concat(files)).then(function () {
          return cache.put(VERSIONS, new Response(JSON.stringify(now)));
        });
      });
    });
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "refresh") event.waitUntil(refresh(!!data.force));
  if (data.type === "flush") event.waitUntil(Outbox.flush());
  if (data.type === "forget") event.waitUntil(forget());
});

self.addEventListener("sync", function (event) {
  if (event.tag === "outbox") event.waitUntil(Outbox.flush());
});

// A code scanned with no signal: its address needs the server, so go to the page kept
// for that place (the round's checklist, the unit of a job) when there is one.
function keptPageOfCode(path) {
  if (path.indexOf("/q/") !== 0) return null;
  return caches.open(PAGES).then(function (cache) {
    return cache.match(CODES).then(function (r) { return r ? r.json() : {}; });
  }).then(function (codes) {
    return codes[path] ? Response.redirect(codes[path], 302) : null;
  });
}

function isPage(request) {
  return request.mode === "navigate" ||
    (request.headers.get("Accept") || "").indexOf("text/html") >= 0;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/sync/") === 0 || url.pathname === "/sw.js") return;
  if (url.pathname.indexOf("/static/") === 0) {
    // Versioned addresses: the same address is the same file, however it was encoded.
    // An address of another release with no signal: this release's file of that name.
    event.respondWith(caches.match(request, { ignoreVary: true }).then(function (hit) {
      return hit || fetch(request).catch(function () {
        return caches.match(request, { ignoreVary: true, ignoreSearch: true })
          .then(function (same) { return same || Response.error(); });
      });
    }));
    return;
  }
  if (url.pathname.indexOf("/files/") === 0) {
    // A photo of the worker's jobs: the server first, as it decides who may see it;
    // the copy kept on the phone when there is no signal.
    event.respondWith(fetch(request).catch(function () {
      return caches.open(PAGES).then(function (cache) { return cache.match(request); })
        .then(function (hit) { return hit || Response.error(); });
    }));
    return;
  }
  if (SHELL_URLS.indexOf(url.pathname) >= 0 && !isPage(request)) {
    // A kept file that is not a page (the web app manifest): the server first, for the
    // user's language; the kept copy when there is no signal.
    event.respondWith(fetch(request).catch(function () {
      return caches.match(request, { ignoreVary: true }).then(function (hit) {
        return hit || Response.error();
      });
    }));
    return;
  }
  if (!isPage(request) || request.headers.get("HX-Request")) return;
  // Pages: the network first (fresh when online), the saved copy when not.
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        event.waitUntil(serial(function () { return keepNavigated(request, copy); }));
      }
      return response;
    }).catch(function () {
      // This worker's own copy first, then anything cached, then the offline page.
      return caches.open(PAGES).then(function (cache) {
        return cache.match(request, { ignoreVary: true });
      }).then(function (hit) {
        return hit || caches.match(request, { ignoreVary: true });
      }).then(function (hit) {
        // A form opened with a query (a scanned place) falls back to the saved form;
        // the page reads the query itself.
        return hit || caches.open(PAGES).then(function (cache) {
          return cache.match(request, { ignoreVary: true, ignoreSearch: true });
        });
      }).then(function (hit) {
        return hit || keptPageOfCode(url.pathname);
      }).then(function (hit) {
        return hit || caches.open(PAGES).then(function (c) { return c.match("/offline"); });
      }).then(function (hit) {
        return hit || caches.match("/offline");
      });
    })
  );
});

// Web Push (webapp/push.py sends {title, body, url, tag, badge}): show the message, set
// the app icon's count where the browser has one, open the record on a tap.
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  var shown = self.registration.showNotification(data.title || "", {
    body: data.body || "",
    tag: data.tag,
    renotify: !!data.tag,
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/icon-192.png",
    data: { url: data.url || "/" }
  });
  var badge = ("setAppBadge" in self.navigator) && typeof data.badge === "number" ?
    (data.badge > 0 ? self.navigator.setAppBadge(data.badge) : self.navigator.clearAppBadge())
      .catch(function () { return null; }) : null;
  event.waitUntil(Promise.all([shown, badge]));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = new URL((event.notification.data && event.notification.data.url) || "/",
    self.location.origin).href;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true })
    .then(function (clients) {
      for (var i = 0; i < clients.length; i++) {
        if (clients[i].url === url && "focus" in clients[i]) return clients[i].focus();
      }
      var open = clients.filter(function (c) { return "navigate" in c; })[0];
      if (open) return open.navigate(url).then(function (c) { return (c || open).focus(); });
      return self.clients.openWindow(url);
    }));
});
