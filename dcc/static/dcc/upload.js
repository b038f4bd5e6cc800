// Upload progress: htmx reports the request's progress; show it in the form's <progress>.
// Loaded only by the document upload page (no inline script: the CSP forbids it).
document.addEventListener("htmx:xhr:progress", function (event) {
  var form = event.target.closest ? event.target.closest("form[data-upload]") : null;
  if (!form || !event.detail.lengthComputable) {
    return;
  }
  var bar = form.querySelector("progress");
  var label = form.querySelector("[data-upload-percent]");
  var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
  if (bar) {
    bar.hidden = false;
    bar.value = percent;
  }
  if (label) {
    label.textContent = percent + " %";
  }
});
document.addEventListener("htmx:beforeRequest", function (event) {
  var form = event.target.closest ? event.target.closest("form[data-upload]") : null;
  if (form) {
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
    }
  }
});
