// The lock screen of a shared tablet (hab/core/lock.py decides on the server; this
// script only makes the data leave the screen on time and gives the lock screen its
// keypad). Loaded only in sessions logged in as shared.
(function () {
  "use strict";
  var body = document.body;
  var root = document.documentElement;

  // The keypad of the lock screen: taps add digits to the PIN field.
  var pad = document.querySelector("[data-pin-pad]");
  if (pad) {
    var field = document.getElementById(pad.getAttribute("data-pin-target"));
    pad.hidden = false;
    pad.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !field) {
        return;
      }
      if (button.hasAttribute("data-pin-digit")) {
        field.value += button.getAttribute("data-pin-digit");
      } else if (button.hasAttribute("data-pin-clear")) {
        field.value = field.value.slice(0, -1);
      }
    });
  }

  var seconds = parseFloat(body.getAttribute("data-lock-after") || "");
  var lockUrl = body.getAttribute("data-lock-url");
  if (!(seconds > 0) || !lockUrl) {
    return;
  }
  var limit = seconds * 1000;
  var aliveUrl = body.getAttribute("data-lock-alive");
  // Taps that send no request still tell the server, at most this often, so that its
  // idle clock (which only sees requests) does not run ahead of the screen's.
  var aliveEvery = Math.min(15000, limit / 4);
  var lastActive = Date.now();
  var lastAlive = lastActive;
  var locking = false;

  function csrfToken() {
    try {
      return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function lockNow() {
    if (locking) {
      return;
    }
    locking = true;
    // Hide the data at once; the lock screen follows.
    root.classList.add("hab-locking");
    try {
      // htmx keeps copies of pages for the back button in localStorage.
      window.localStorage.removeItem("htmx-history-cache");
    } catch (error) {
      // Storage may be off; nothing is kept then either.
    }
    var here = window.location.pathname + window.location.search;
    window.location.replace(lockUrl + "?reason=idle&next=" + encodeURIComponent(here));
  }

  function tellServer() {
    if (!aliveUrl || !window.fetch) {
      return;
    }
    lastAlive = Date.now();
    window
      .fetch(aliveUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
        redirect: "follow",
      })
      .then(function (response) {
        // The server locked first (or logged out): follow it.
        if (response.status !== 204) {
          lockNow();
        }
      })
      .catch(function () {
        // Offline: the timer below still locks the screen.
      });
  }

  function active() {
    if (locking) {
      return;
    }
    var now = Date.now();
    if (now - lastActive > limit) {
      // The tablet slept past the limit: the first touch must not reveal the page.
      lockNow();
      return;
    }
    lastActive = now;
    if (now - lastAlive >= aliveEvery) {
      tellServer();
    }
  }

  function check() {
    if (!locking && Date.now() - lastActive > limit) {
      lockNow();
    }
  }

  ["pointerdown", "keydown", "touchstart", "wheel", "input"].forEach(function (name) {
    document.addEventListener(name, active, { capture: true, passive: true });
  });
  // Any request htmx sends for the user is activity on the server too.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var headers = (event.detail && event.detail.requestConfig && event.detail.requestConfig.headers) || {};
    if (headers["X-HAB-Background"] !== "1") {
      lastActive = lastAlive = Date.now();
    }
  });
  if (window.htmx && window.htmx.config) {
    // No copies of patient pages in the browser's storage on a shared device.
    window.htmx.config.historyCacheSize = 0;
  }
  window.setInterval(check, 1000);
  document.addEventListener("visibilitychange", check);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      check();
    }
  });
})();
