// CivicGrid field service worker: keeps an offline page and the field app's files.
// Reports are not cached here: the page queues them in IndexedDB and sends them itself.
"use strict";
var CACHE = "civicgrid-field-v1";
var OFFLINE_URL = {{ offline_url|safe }};
var ASSETS = {{ assets|safe }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll([OFFLINE_URL].concat(ASSETS));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(function () { return caches.match(OFFLINE_URL); }));
    return;
  }
  if (ASSETS.indexOf(new URL(request.url).pathname) >= 0) {
    event.respondWith(fetch(request).catch(function () { return caches.match(request); }));
  }
});
