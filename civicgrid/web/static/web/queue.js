// The offline queue of the field pages, shared by every app that sends from the field.
//
// An item is stored in IndexedDB with its own idempotency key before anything is sent, sent
// in order, and removed only when the server acknowledges it; a refusal keeps it, marked. A
// request sent twice (a lost answer, the connection back, two tabs) carries the same key, so
// the server stores it once. Usage:
//
//   var queue = new CivicGridQueue.Queue("civicgrid-care", "visits");
//   queue.put({ key: CivicGridQueue.newKey(), created: Date.now(), fields: {...} });
//   queue.flush(function (item) { return fetch(...).then(...); });  // resolve false to stop
//   CivicGridQueue.registerWorker(url, "/care/field/");               // the offline page
(function () {
  "use strict";

  function Queue(dbName, storeName) {
    this.dbName = dbName;
    this.storeName = storeName;
    this.flushing = false;
  }
  Queue.prototype.open = function () {
    var self = this;
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(self.dbName, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(self.storeName, { keyPath: "key" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  };
  Queue.prototype.withStore = function (mode, work) {
    var self = this;
    return this.open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(self.storeName, mode);
        var req = work(tx.objectStore(self.storeName));
        tx.oncomplete = function () { db.close(); resolve(req && req.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  };
  Queue.prototype.all = function () {
    return this.withStore("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.created - b.created; });
    });
  };
  Queue.prototype.put = function (item) {
    return this.withStore("readwrite", function (s) { return s.put(item); });
  };
  Queue.prototype.remove = function (key) {
    return this.withStore("readwrite", function (s) { return s.delete(key); });
  };
  // Send the waiting items (not those marked refused) one by one, oldest first; ``send``
  // resolves false to stop (offline, server trouble): the next flush resumes.
  Queue.prototype.flush = function (send) {
    var self = this;
    if (self.flushing) { return Promise.resolve(); }
    self.flushing = true;
    return self.all().then(function (items) {
      return items.filter(function (i) { return !i.error; }).reduce(function (chain, item) {
        return chain.then(function (go) { return go === false ? false : send(item); });
      }, Promise.resolve(true));
    }).catch(function () {}).then(function () { self.flushing = false; });
  };

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }
  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) { return input.value; }
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  // The field service worker (the offline page and the pages' files) for ``scope``.
  function registerWorker(url, scope) {
    if (!url || !("serviceWorker" in navigator)) { return Promise.resolve(null); }
    return navigator.serviceWorker.register(url, { scope: scope }).catch(function () { return null; });
  }

  window.CivicGridQueue = { Queue: Queue, newKey: newKey, csrfToken: csrfToken, registerWorker: registerWorker };
})();
