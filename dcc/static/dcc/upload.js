// The document upload form, sent by htmx: a progress bar while the file goes up, the form
// shown again with its errors when the server refuses it, and a way to try again when the
// request fails. Loaded only by the upload page (no inline script: the CSP forbids it).
(function () {
  "use strict";

  function uploadForm(event) {
    var target = event.detail && event.detail.elt ? event.detail.elt : event.target;
    return target && target.closest ? target.closest("form[data-upload]") : null;
  }

  function showProgress(form, loaded, total) {
    var bar = form.querySelector("progress");
    var label = form.querySelector("[data-upload-percent]");
    var percent = total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
    if (bar) {
      bar.hidden = false;
      bar.value = percent;
    }
    if (label) {
      // Announced politely: by tens, not at every progress event.
      var text =
        percent >= 100 && label.dataset.checking
          ? label.dataset.checking
          : Math.floor(percent / 10) * 10 + " %";
      if (label.textContent !== text) {
        label.textContent = text;
      }
    }
  }

  function setBusy(form, busy) {
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = busy;
    }
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = uploadForm(event);
    if (!form) {
      return;
    }
    var failed = form.querySelector("[data-upload-failed]");
    if (failed) {
      failed.hidden = true;
    }
    setBusy(form, true);
    showProgress(form, 0, 1);
  });

  // The upload's own progress, not the response's (htmx:xhr:progress reports both).
  document.addEventListener("htmx:beforeSend", function (event) {
    var form = uploadForm(event);
    var xhr = event.detail.xhr;
    if (!form || !xhr || !xhr.upload) {
      return;
    }
    xhr.upload.addEventListener("progress", function (progress) {
      if (progress.lengthComputable) {
        showProgress(form, progress.loaded, progress.total);
      }
    });
  });

  // A refused upload (400, 413) answers the form with its errors: show it, as without htmx.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!uploadForm(event)) {
      return;
    }
    var status = event.detail.xhr.status;
    if (status === 400 || status === 413) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Anything else (refused session, server error, network cut): keep what was typed, say so,
  // and let the user send again.
  function failed(event) {
    var form = uploadForm(event);
    if (!form || !form.isConnected) {
      return;
    }
    setBusy(form, false);
    var bar = form.querySelector("progress");
    if (bar) {
      bar.hidden = true;
    }
    var label = form.querySelector("[data-upload-percent]");
    if (label) {
      label.textContent = "";
    }
    var message = form.querySelector("[data-upload-failed]");
    if (message) {
      message.hidden = false;
    }
  }
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.failed === true) {
      failed(event);
    }
  });
  document.addEventListener("htmx:sendError", failed);

  // After a refusal, the keyboard goes to the first field to correct.
  document.addEventListener("htmx:afterSettle", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-upload]")) {
      return;
    }
    var first = form.querySelector(
      ".field-invalid input, .field-invalid select, .field-invalid textarea, " +
        "[role=alert]:not([hidden])"
    );
    if (first) {
      if (!first.matches("input, select, textarea")) {
        first.setAttribute("tabindex", "-1");
      }
      first.focus();
    }
  });
})();
