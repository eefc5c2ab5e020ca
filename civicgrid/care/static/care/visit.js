// Record a visit, online or not: every visit goes through one queue in IndexedDB with its
// own idempotency key, is sent, and is removed only when the server acknowledges it. A visit
// sent twice (a lost answer, the connection back) carries the same key: stored once.
(function () {
  "use strict";
  var script = document.getElementById("visit-script");
  var T = script ? script.dataset : {};
  var form = document.getElementById("visit-form");
  var statusEl = document.getElementById("visit-status");
  var listEl = document.getElementById("visit-queue");
  var cardEl = document.getElementById("visit-queue-card");
  var DB_NAME = "civicgrid-care";
  var STORE = "visits";

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "key" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var req = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(req && req.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }
  function allItems() {
    return withStore("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.created - b.created; });
    });
  }
  function putItem(item) { return withStore("readwrite", function (s) { return s.put(item); }); }
  function removeItem(key) { return withStore("readwrite", function (s) { return s.delete(key); }); }
  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }
  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function say(text) { if (statusEl) { statusEl.textContent = text; } }

  function render() {
    if (!listEl) { return Promise.resolve(); }
    return allItems().then(function (items) {
      listEl.textContent = "";
      cardEl.hidden = items.length === 0;
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.dataset.key = item.key;
        li.textContent = item.fields.house + " · " + item.fields.visited_on + " · " + (item.error || T.waiting || "");
        listEl.appendChild(li);
      });
    }).catch(function () {});
  }

  function send(item) {
    var body = new FormData();
    Object.keys(item.fields).forEach(function (name) { body.append(name, item.fields[name]); });
    return fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Idempotency-Key": item.key, "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (response.ok) {
          say(T.saved || "");
          return removeItem(item.key).then(function () { return true; });
        }
        // Refused (a field named): keep it, marked, so nothing typed is lost.
        item.error = answer.message || String(response.status);
        say(item.error);
        return putItem(item).then(function () { return true; });
      });
    }, function () {
      say(T.queued || "");
      return false; // offline: stop, try again when the connection returns
    });
  }

  var flushing = false;
  function flush() {
    if (flushing) { return Promise.resolve(); }
    flushing = true;
    return allItems().then(function (items) {
      return items.filter(function (i) { return !i.error; }).reduce(function (chain, item) {
        return chain.then(function (go) { return go === false ? false : send(item); });
      }, Promise.resolve(true));
    }).catch(function () {}).then(function () { flushing = false; return render(); });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var fields = {};
      new FormData(form).forEach(function (value, name) {
        if (name !== "csrfmiddlewaretoken" && name !== "idempotency_key") { fields[name] = value; }
      });
      var item = { key: newKey(), created: Date.now(), fields: fields };
      putItem(item).then(function () {
        form.reset();
        return flush();
      });
    });
  }
  window.addEventListener("online", flush);
  flush();
})();
