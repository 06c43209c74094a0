/* labelops queue page: keyboard labelling over the JSON API, with a prefetched next item.
 *
 * Cards are HTML fragments rendered (and escaped) by the server; this script never
 * builds markup from item data. Answers wait in sessionStorage until the server has
 * them, so a lost session or network never loses a label.
 */
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("boot").textContent);
  var msg = JSON.parse(document.getElementById("msgs").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var pid = boot.project_id;
  var multi = boot.mode === "multi";
  var PENDING = "labelops.pending." + pid;

  var cardBox = document.getElementById("card");
  var banner = document.getElementById("banner");
  var reviseBanner = document.getElementById("revise-banner");
  var todayEl = document.getElementById("today");
  var buttons = Array.prototype.slice.call(document.querySelectorAll(".label-btn"));
  var skipDialog = document.getElementById("skip-dialog");
  var guideDialog = document.getElementById("guide-dialog");
  var zoomDialog = document.getElementById("zoom-dialog");

  var current = null;   // the task on screen (or set aside while revising)
  var next = null;      // prefetched task
  var prev = null;      // last submitted task, for undo
  var revising = null;  // the task being revised (undo)
  var selected = [];
  var busy = false;
  var prefetching = false;
  var inflight = {};
  var finished = {};    // assignment ids submitted or skipped on this page
  var shownAt = performance.now();
  var keyAt = null;
  var today = boot.today || 0;
  window.labelopsLatency = [];

  function say(text, kind) {
    banner.textContent = text || "";
    banner.className = "banner" + (kind ? " " + kind : "");
  }

  function request(method, url, body) {
    var headers = { "Accept": "application/json", "Accept-Language": msg.lang };
    if (method !== "GET") { headers["X-CSRF-Token"] = csrf; }
    var options = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options);
  }

  function errorText(response) {
    return response.json().then(function (body) {
      return body && body.error ? body.error.message : msg.error;
    }, function () { return msg.error; });
  }

  var leaving = false;
  function toLogin() {
    // Several requests may learn of the lost session at once; navigate only once.
    if (leaving) { return; }
    leaving = true;
    say(msg.session, "warn");
    window.location.assign("/?next=" + encodeURIComponent(window.location.pathname));
  }

  // Leasing changes state: a POST, with the CSRF token like every unsafe call.
  function lease(prefetch, attempt) {
    var url = "/api/projects/" + pid + "/next" + (prefetch ? "?prefetch=true" : "");
    attempt = attempt || 0;
    return request("POST", url).then(function (response) {
      if (response.status === 204) { return null; }
      if (response.status === 401) { throw { auth: true }; }
      if (!response.ok) { return errorText(response).then(function (t) { throw { text: t }; }); }
      return response.json().then(function (task) {
        if (finished[task.assignment_id] && attempt < 20) {
          // The server has not stored our answer yet and hands the same lease back.
          return new Promise(function (resolve) { setTimeout(resolve, 100); })
            .then(function () { return lease(prefetch, attempt + 1); });
        }
        return fetch("/w/cards/" + task.assignment_id, { credentials: "same-origin" })
          .then(function (card) {
            if (card.redirected || card.status === 401) { throw { auth: true }; }
            if (!card.ok) { throw { text: msg.error }; }
            return card.text();
          })
          .then(function (html) { task.html = html; return task; });
      });
    });
  }

  function setSelection(values) {
    selected = values.slice();
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", selected.indexOf(b.dataset.label) >= 0 ? "true" : "false");
    });
  }

  function paint(task) {
    if (!task) {
      cardBox.innerHTML = "";
      var p = document.createElement("p");
      p.className = "done";
      p.textContent = msg.done;
      cardBox.appendChild(p);
      cardBox.setAttribute("aria-busy", "false");
      return;
    }
    cardBox.innerHTML = task.html;  // server-rendered, escaped by Jinja
    cardBox.setAttribute("aria-busy", "false");
    setSelection(task === revising ? task.value : (task.current_label || []));
    reviseBanner.hidden = task !== revising;
    shownAt = performance.now();
    if (keyAt !== null) {
      var started = keyAt;
      keyAt = null;
      requestAnimationFrame(function () {
        window.labelopsLatency.push(performance.now() - started);
      });
    }
  }

  function pending() {
    try { return JSON.parse(sessionStorage.getItem(PENDING) || "[]"); } catch (e) { return []; }
  }
  function savePending(list) { sessionStorage.setItem(PENDING, JSON.stringify(list)); }
  function addPending(entry) {
    var list = pending().filter(function (p) { return p.assignment_id !== entry.assignment_id; });
    list.push(entry);
    savePending(list);
  }
  function dropPending(id) {
    savePending(pending().filter(function (p) { return p.assignment_id !== id; }));
  }

  // POST one answer. Resolves true when the server has it, false when it refused it
  // (message shown). Network trouble keeps it pending and retries; 401 goes to login.
  function send(entry) {
    var key = entry.assignment_id + ":" + entry.value.join("+");
    if (inflight[key]) { return inflight[key]; }
    addPending(entry);
    var body = multi ? { labels: entry.value } : { label: entry.value[0] };
    body.active_ms = entry.active_ms;
    var promise = request("POST", "/api/assignments/" + entry.assignment_id + "/label", body)
      .then(function (response) {
        if (response.status === 401) { toLogin(); return false; }
        if (response.status === 201 || response.status === 200) {
          dropPending(entry.assignment_id);
          if (response.status === 201 && !entry.revision) {
            today += 1;
            todayEl.textContent = today.toLocaleString(msg.lang === "zh-Hant" ? "zh-TW" : "en");
          }
          if (entry.revision) { return true; }
          return response.json().then(function (body) {
            goldFeedback(body && body.feedback);
            return true;
          }, function () { return true; });
        }
        if (response.status >= 500) { throw new Error("server"); }
        // 409 expired lease / final item, 404, 422: the server's bilingual message says why.
        dropPending(entry.assignment_id);
        return errorText(response).then(function (text) { say(text, "warn"); return false; });
      })
      .catch(function () {
        say(msg.retrying, "warn");
        return new Promise(function (resolve) { setTimeout(resolve, 3000); })
          .then(function () { delete inflight[key]; return send(entry); });
      })
      .then(function (result) { delete inflight[key]; return result; });
    inflight[key] = promise;
    return promise;
  }

  // After a gold item the submit's response carries the answer in ``feedback`` (null
  // for every other item, so gold stays indistinguishable until answered). Built with
  // textContent, never markup; names in the page's language (``boot.names``).
  var goldBox = document.getElementById("gold-feedback");
  function goldFeedback(feedback) {
    if (!feedback) { return; }
    var names = function (keys) {
      return (keys || []).map(function (k) { return boot.names[k] || k; }).join(", ");
    };
    var text = (feedback.is_correct ? msg.gold_right : msg.gold_wrong)
      .replace("{right}", names(feedback.right_labels))
      .replace("{yours}", names(feedback.your_labels));
    var explanation = msg.lang === "zh-Hant" ? feedback.explanation_zh : feedback.explanation_en;
    goldBox.textContent = text + (explanation ? " " + explanation : "");
    goldBox.className = "banner " + (feedback.is_correct ? "ok" : "warn");
    goldBox.hidden = false;
  }

  function prefetch() {
    if (prefetching || next || !current) { return; }
    prefetching = true;
    lease(true).then(function (task) {
      prefetching = false;
      if (task && current && task.assignment_id !== current.assignment_id) { next = task; }
    }, function (problem) {
      prefetching = false;
      if (problem && problem.auth) { toLogin(); }
    });
  }

  function loadCurrent() {
    busy = true;
    cardBox.setAttribute("aria-busy", "true");
    return lease(false).then(function (task) {
      busy = false;
      current = task;
      paint(task);
      prefetch();
    }, function (problem) {
      busy = false;
      if (problem && problem.auth) { toLogin(); return; }
      say((problem && problem.text) || msg.error, "warn");
    });
  }

  // Show the next item: the prefetched one at once, else lease one once ``after``
  // (the answer just sent) has landed, so the server does not hand the same task back.
  function advance(after) {
    if (next) {
      current = next;
      next = null;
      paint(current);
      return Promise.resolve();
    }
    current = null;
    cardBox.setAttribute("aria-busy", "true");
    return (after || Promise.resolve()).then(loadCurrent);
  }

  function submit() {
    if (busy) { return; }
    if (!selected.length) { keyAt = null; say(msg.nothing, "warn"); return; }
    var activeMs = Math.min(Math.round(performance.now() - shownAt), 86400000);
    if (revising) {
      var task = revising;
      var entry = { assignment_id: task.assignment_id, value: selected.slice(), active_ms: activeMs, revision: true };
      busy = true;
      keyAt = null;
      send(entry).then(function (ok) {
        busy = false;
        if (ok) { task.value = entry.value; say(msg.revised, "ok"); }
        revising = null;
        paint(current);
      });
      return;
    }
    if (!current) { keyAt = null; return; }
    var done = current;
    var answer = { assignment_id: done.assignment_id, value: selected.slice(), active_ms: activeMs };
    prev = { assignment_id: done.assignment_id, html: done.html, value: answer.value };
    say("");
    finished[done.assignment_id] = true;
    var sent = send(answer);
    advance(sent);
    // Prefetch only after the server has the answer, so it is not counted as held.
    sent.then(function () { prefetch(); });
  }

  function toggle(labelKey) {
    if (!current && !revising) { return; }
    if (multi) {
      var at = selected.indexOf(labelKey);
      if (at >= 0) { selected.splice(at, 1); } else { selected.push(labelKey); }
      setSelection(selected);
    } else {
      setSelection([labelKey]);
    }
  }

  function undo() {
    if (revising) { return; }
    if (!prev) { say(msg.no_undo, "warn"); return; }
    revising = prev;
    paint(prev);
  }

  function cancelRevise() {
    if (!revising) { return; }
    revising = null;
    paint(current);
  }

  function openSkip() {
    if (!current || revising || busy) { return; }
    skipDialog.showModal();
    var first = skipDialog.querySelector('input[name="reason"]:checked');
    if (first) { first.focus(); }
  }

  document.getElementById("skip-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var choice = skipDialog.querySelector('input[name="reason"]:checked');
    var note = document.getElementById("skip-note").value.trim();
    var reason = (choice ? choice.value : "") + (note ? ": " + note : "");
    skipDialog.close();
    document.getElementById("skip-note").value = "";
    if (!current) { return; }
    var task = current;
    busy = true;
    request("POST", "/api/assignments/" + task.assignment_id + "/skip", { reason: reason || "-" })
      .then(function (response) {
        busy = false;
        if (response.status === 401) { toLogin(); return; }
        if (!response.ok) { return errorText(response).then(function (t) { say(t, "warn"); }); }
        finished[task.assignment_id] = true;
        say(msg.skipped, "ok");
        return advance().then(prefetch);
      }, function () { busy = false; say(msg.retrying, "warn"); });
  });
  skipDialog.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.tagName !== "BUTTON") {
      event.preventDefault();
      document.getElementById("skip-form").requestSubmit();
    }
  });
  document.getElementById("skip-cancel").addEventListener("click", function () { skipDialog.close(); });

  function toggleGuide() {
    if (guideDialog.open) { guideDialog.close(); } else { guideDialog.showModal(); }
  }

  function firstPlayer() { return cardBox.querySelector("audio, video"); }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (skipDialog.open || guideDialog.open || zoomDialog.open) {
      if ((event.key === "g" || event.key === "?") && guideDialog.open) { event.preventDefault(); guideDialog.close(); }
      return;  // dialogs handle their own keys (Enter submits the skip form, Esc closes)
    }
    var target = event.target;
    // Every dialog is closed here, but the control that closed one (its Close button)
    // keeps the focus until the browser's next focus fix-up, a frame later: an Enter
    // pressed then belongs to the page, not to that button (it was lost, once in a few
    // dozen browser-test runs).
    if (target && target.closest && target.closest("dialog")) { target = document.body; }
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    if ((tag === "AUDIO" || tag === "VIDEO") && (event.key === " " || event.key.indexOf("Arrow") === 0)) { return; }
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === "Enter") {
      if (tag === "BUTTON" || tag === "A" || tag === "SUMMARY") {
        if (!(target.classList && target.classList.contains("label-btn"))) { return; }
      }
      event.preventDefault();
      if (event.repeat) { return; }
      keyAt = performance.now();
      submit();
      return;
    }
    if (key === "Escape") { cancelRevise(); return; }
    if (Object.prototype.hasOwnProperty.call(boot.keys, key)) {
      event.preventDefault();
      toggle(boot.keys[key]);
      return;
    }
    var player = firstPlayer();
    switch (key) {
      case "s": event.preventDefault(); openSkip(); break;
      case "u": event.preventDefault(); undo(); break;
      case "g": case "?": event.preventDefault(); toggleGuide(); break;
      case "p": if (player) { event.preventDefault(); if (player.paused) { player.play(); } else { player.pause(); } } break;
      case ",": if (player) { player.currentTime = Math.max(0, player.currentTime - 5); } break;
      case ".": if (player) { player.currentTime = player.currentTime + 5; } break;
      default: break;
    }
  });

  buttons.forEach(function (b) {
    b.addEventListener("click", function () { toggle(b.dataset.label); });
  });
  document.getElementById("submit-btn").addEventListener("click", submit);
  document.getElementById("skip-btn").addEventListener("click", openSkip);
  document.getElementById("undo-btn").addEventListener("click", undo);
  document.getElementById("guide-btn").addEventListener("click", toggleGuide);
  cardBox.addEventListener("click", function (event) {
    var thumb = event.target.closest ? event.target.closest(".thumb") : null;
    if (!thumb) { return; }
    var img = document.getElementById("zoom-img");
    img.src = thumb.dataset.full;
    img.alt = thumb.getAttribute("aria-label") || "";
    zoomDialog.showModal();
  });

  // Answers left over from an expired session or a lost connection go first.
  var leftover = pending();
  var chain = Promise.resolve();
  leftover.forEach(function (entry) {
    chain = chain.then(function () { return send(entry); });
  });
  chain.then(function () {
    if (leftover.length) { say(msg.saved, "ok"); }
    return loadCurrent();
  });
})();
