// HAB's own script. The Content-Security-Policy allows no inline script or handler,
// so behaviour that templates would write as on...= attributes lives here.
(function () {
  "use strict";
  // <select data-autosubmit>: submit the form when the choice changes (the clinic switcher).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      if (target.form.requestSubmit) {
        target.form.requestSubmit();
      } else {
        target.form.submit();
      }
    }
  });

  // A tablet's hardware keyboard: "/" (outside a text field) or Ctrl+K / Cmd+K (anywhere)
  // puts the cursor in the page's search box marked data-search-shortcut (the dosing
  // board's "Find patient"), its text selected so typing replaces the last search.
  function typing(element) {
    if (!element || !(element instanceof HTMLElement)) {
      return false;
    }
    if (element.isContentEditable || element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement) {
      return true;
    }
    if (element instanceof HTMLInputElement) {
      return ["checkbox", "radio", "button", "submit", "reset", "range", "color", "file", "image"].indexOf(element.type) < 0;
    }
    return false;
  }
  document.addEventListener("keydown", function (event) {
    var box = document.querySelector("[data-search-shortcut]");
    if (!box || event.defaultPrevented || event.altKey) {
      return;
    }
    var commandK = (event.ctrlKey || event.metaKey) && !event.shiftKey && (event.key === "k" || event.key === "K");
    var slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !typing(document.activeElement);
    if (commandK || slash) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
  // The dosing room. <button data-fill="ID" data-value="V">: one tap writes V into the
  // field ID (breath alcohol "0,00 measured"); the field stays editable.
  document.addEventListener("click", function (event) {
    var fill = event.target instanceof Element ? event.target.closest("[data-fill]") : null;
    if (fill) {
      var field = document.getElementById(fill.getAttribute("data-fill"));
      if (field) {
        field.value = fill.getAttribute("data-value");
        field.dispatchEvent(new Event("input", { bubbles: true }));
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
      return;
    }
    var close = event.target instanceof Element ? event.target.closest("[data-panel-close]") : null;
    if (close) {
      closePanel();
    }
  });

  // The panel as the board first shows it ("choose a patient"), to go back to when closed.
  var panel = document.getElementById("panel");
  var emptyPanel = panel ? panel.innerHTML : "";
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 900px)") : null;

  function closePanel() {
    if (panel) {
      panel.innerHTML = emptyPanel;
    }
  }

  // On a narrow screen the panel covers the list. A dose recorded with nothing more to do
  // (no top-up, no warning) closes it: the confirmation moves to the top of the list, and
  // the nurse is back on the board for the next patient.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!panel || event.target !== panel || !narrow || !narrow.matches) {
      return;
    }
    var done = panel.querySelector("[data-done]");
    var status = document.getElementById("board-status");
    if (done && status) {
      status.textContent = done.getAttribute("data-done") + ": " + done.textContent;
      status.hidden = false;
      closePanel();
    }
  });
})();
