/* The outbox: commands saved on the phone (IndexedDB) and replayed to the server.
   Runs in pages and in the service worker (no DOM here). See docs/SYNC.md. */
(function (root) {
  "use strict";
  var DB = "wuye", STORE = "outbox", BATCH = 20;
  var KEEP_SYNCED_MS = 24 * 3600 * 1000;

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore(STORE, { keyPath: "op_id" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  // Run fn(store) in one transaction; resolves with what fn's request returned.
  function withStore(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), out;
        var req = fn(tx.objectStore(STORE));
        if (req) req.onsuccess = function () { out = req.result; };
        tx.oncomplete = function () { db.close(); resolve(out); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  var changeListeners = [];
  var channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("outbox") : null;
  function changed() {
    changeListeners.forEach(function (fn) { try { fn(); } catch (e) { /* keep going */ } });
    if (channel) channel.postMessage("changed");
  }
  if (channel) channel.onmessage = function () {
    changeListeners.forEach(function (fn) { try { fn(); } catch (e) { /* keep going */ } });
  };

  var seq = 0;
  function add(item) {
    item.seq = Date.now() * 1000 + (seq++ % 1000);
    item.state = "saved";
    item.created_at = item.created_at || new Date().toISOString();
    return withStore("readwrite", function (s) { return s.put(item); }).then(function () {
      changed();
      return item;
    });
  }
  function put(item) { return withStore("readwrite", function (s) { return s.put(item); }); }
  function get(opId) { return withStore("readonly", function (s) { return s.get(opId); }); }
  function remove(opId) {
    return withStore("readwrite", function (s) { return s.delete(opId); }).then(changed);
  }
  function all() {
    return withStore("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.seq - b.seq; });
    });
  }
  function waiting(item) { return item.state === "saved" || item.state === "sending"; }
  function pendingCount() {
    return all().then(function (items) { return items.filter(waiting).length; });
  }

  function sha256(blob) {
    return blob.arrayBuffer().then(function (buf) {
      return crypto.subtle.digest("SHA-256", buf);
    }).then(function (digest) {
      return Array.from(new Uint8Array(digest), function (b) {
        return b.toString(16).padStart(2, "0");
      }).join("");
    });
  }

  function Offline() { this.offline = true; }
  // The server answered but refused: retrying will not help, a person must look.
  function Refused(message) { this.refused = true; this.message = message; }
  function SignedOut(login) { this.signedOut = true; this.login = login; }

  function send(url, options) {
    options.credentials = "same-origin";
    return fetch(url, options).catch(function () { throw new Offline(); }).then(function (r) {
      if (r.status === 401) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          throw new SignedOut(b.login || "/login?next=/outbox");
        });
      }
      return r;
    });
  }

  // Photos and signatures go first, each by its hash; one the server has is skipped,
  // so an interrupted upload resumes where it stopped.
  function uploadBlobs(item) {
    return (item.blobs || []).reduce(function (p, b) {
      return p.then(function () {
        if (b.uploaded) return null;
        return send("/sync/files/" + b.sha256, { method: "GET" }).then(function (r) {
          if (r.status === 200) return null;
          return send("/sync/files/" + b.sha256, {
            method: "PUT", body: b.blob, headers: { "Content-Type": b.blob.type || "image/jpeg" }
          }).then(function (up) {
            if (up.ok) return null;
            if (up.status >= 500) throw new Offline();
            return up.json().catch(function () { return {}; }).then(function (body) {
              throw new Refused(body.message || String(up.status));
            });
          });
        }).then(function () { b.uploaded = true; });
      });
    }, Promise.resolve());
  }

  // In a page, whose item this is; in the service worker nobody is known, and the server
  // answers another user's item "held" whatever was sent.
  function mine(item) {
    var user = typeof document !== "undefined" && document.body && document.body.dataset.userId;
    return !user || String(item.user_id) === user;
  }

  function asCommand(item) {
    return {
      op_id: item.op_id, kind: item.kind, target: item.target, user_id: item.user_id,
      base_version: item.base_version, device_time: item.device_time,
      queued: !!item.queued, fields: item.fields
    };
  }

  // The server lacks files this item refers to, for this user (pruned after an upload
  // whose batch never arrived, or sent by another user of a shared phone): mark the
  // phone's copies to be sent again. False when the phone no longer holds one, or after
  // a few rounds, so that an item never cycles for ever.
  function uploadAgain(item, hashes) {
    var blobs = item.blobs || [];
    var held = hashes.every(function (h) {
      return blobs.some(function (b) { return b.sha256 === h; });
    });
    item.uploads_again = (item.uploads_again || 0) + 1;
    if (!held || !hashes.length || item.uploads_again > 3) return false;
    blobs.forEach(function (b) { if (hashes.indexOf(b.sha256) >= 0) b.uploaded = false; });
    return true;
  }

  function settle(item, res) {
    item.result = res;
    var first = res.first_status || res.status;
    if (res.status === "held") {
      item.state = "saved";
      item.message = res.message;
    } else if (res.status === "upload" && uploadAgain(item, res.files || [])) {
      item.state = "saved";  // its photos go up again with the next sending
      item.message = res.message;
    } else if (first === "applied") {
      item.state = "synced";
      item.synced_at = new Date().toISOString();
      item.message = "";
      item.blobs = [];  // the server has them; free the phone's storage
    } else {
      item.state = "attention";
      item.message = res.message || "";
    }
  }

  var running = null;
  // Send every waiting item, oldest first. Resolves with {sent, offline, signedOut}.
  // One sender at a time in this page (or worker), and across the page and the service
  // worker (Background Sync) through a Web Lock: two would upload the same photos and
  // send the same batch side by side (the server would answer the second "duplicate").
  function flush() {
    if (running) return running;
    var send = navigator.locks && navigator.locks.request
      ? navigator.locks.request("outbox-flush", doFlush) : doFlush();
    running = send.then(function (r) { running = null; return r; },
      function (e) { running = null; throw e; });
    return running;
  }

  function doFlush() {
    var summary = { sent: 0, offline: false, signedOut: false, login: null };
    return all().then(function (items) {
      var now = Date.now();
      var old = items.filter(function (i) {
        return i.state === "synced" && now - Date.parse(i.synced_at) > KEEP_SYNCED_MS;
      });
      var queue = items.filter(waiting);
      return Promise.all(old.map(function (i) { return remove(i.op_id); })).then(function () {
        return sendBatches(queue, summary);
      });
    }).catch(function (e) {
      if (e && e.offline) summary.offline = true;
      else if (e && e.signedOut) { summary.signedOut = true; summary.login = e.login; }
      else throw e;
    }).then(function () { changed(); return summary; });
  }

  function sendBatches(queue, summary) {
    if (!queue.length) return Promise.resolve();
    var batch = queue.slice(0, BATCH);
    batch.forEach(function (i) { i.state = "sending"; });
    return Promise.all(batch.map(put)).then(function () {
      changed();
      return batch.reduce(function (p, i) {
        return p.then(function () {
          // Another user's item waits for them (the server answers "held"): its photos
          // are theirs to send, not to be counted as this user's.
          return (mine(i) ? uploadBlobs(i) : Promise.resolve()).catch(function (e) {
            if (!e || !e.refused) throw e;
            i.state = "attention";  // this item's photo was refused; the others go on
            i.message = e.message;
          }).then(function () { return put(i); });
        });
      }, Promise.resolve());
    }).then(function () {
      batch = batch.filter(function (i) { return i.state === "sending"; });
      if (!batch.length) return null;
      return send("/sync/batch", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          device_id: batch[0].device_id || "", sent_at: new Date().toISOString(),
          commands: batch.map(asCommand)
        })
      });
    }).then(function (r) {
      if (r === null) return { results: [] };
      if (r.status >= 500) throw new Offline();
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          throw new Refused(b.message || String(r.status));
        });
      }
      return r.json();
    }).then(function (body) {
      // The phone's clock error, for pages that count down deadlines (not in a worker).
      if (typeof localStorage !== "undefined" && typeof body.clock_offset_seconds === "number") {
        localStorage.setItem("clock_offset_ms", String(Math.round(body.clock_offset_seconds * 1000)));
      }
      var byId = {};
      (body.results || []).forEach(function (res) { byId[res.op_id] = res; });
      return Promise.all(batch.map(function (i) {
        if (byId[i.op_id]) { settle(i, byId[i.op_id]); summary.sent++; }
        else i.state = "saved";
        return put(i);
      }));
    }, function (e) {
      if (e && e.refused) {
        batch.forEach(function (i) { i.state = "attention"; i.message = e.message; });
        return Promise.all(batch.map(put));
      }
      // Not answered: back to "saved", to be sent again (the server dedupes by op_id).
      batch.forEach(function (i) { if (i.state === "sending") i.state = "saved"; });
      return Promise.all(batch.map(put)).then(function () { throw e; });
    }).then(function () {
      return sendBatches(queue.slice(BATCH), summary);
    });
  }

  root.Outbox = {
    add: add, get: get, put: put, remove: remove, all: all, flush: flush,
    pendingCount: pendingCount, sha256: sha256,
    onChange: function (fn) { changeListeners.push(fn); }
  };
})(self);
