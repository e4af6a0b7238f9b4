// Data loader shared by the explorer and the row view. A data file calls halubenchData.inflate(key, base64):
// JSON, deflated and base64-encoded, decoded here with the browser's DecompressionStream. Files are added as
// <script> tags on demand (fetch() of local files is refused under file://; a script tag works everywhere).
"use strict";

window.halubenchData = (function () {
  var store = {}, waiting = {};

  function settle(key, how, value) {
    (waiting[key] || []).forEach(function (done) { done[how](value); });
    delete waiting[key];
  }

  function put(key, value) {
    store[key] = value;
    settle(key, "resolve", value);
  }

  var TYPES = { b: Int8Array, B: Uint8Array, h: Int16Array, H: Uint16Array, i: Int32Array, I: Uint32Array };

  function bytesOf(base64) {
    var text = atob(base64), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  function inflate(base64) {
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser cannot read the site's compressed data " +
        "(it needs DecompressionStream: Chrome 80, Firefox 113, Safari 16.4 or later)"));
    }
    var stream = new Blob([bytesOf(base64)]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).text().then(JSON.parse);
  }

  return {
    // A packed column of integers ("<type>:<base64>", little-endian) as a typed array.
    column: function (packed) {
      return new TYPES[packed.charAt(0)](bytesOf(packed.slice(2)).buffer);
    },
    inflate: function (key, base64) {
      inflate(base64).then(function (value) { put(key, value); }, function (error) {
        settle(key, "reject", new Error("cannot read " + key + ": " + error.message));
      });
    },
    load: function (base, key) {
      if (Object.prototype.hasOwnProperty.call(store, key)) return Promise.resolve(store[key]);
      return new Promise(function (resolve, reject) {
        var first = !waiting[key];
        (waiting[key] = waiting[key] || []).push({ resolve: resolve, reject: reject });
        if (!first) return;
        var script = document.createElement("script");
        script.src = base + key + ".js";
        script.onerror = function () { settle(key, "reject", new Error("cannot load " + script.src)); };
        document.body.appendChild(script);
      });
    }
  };
})();
